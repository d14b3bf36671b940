/** One version of the fleet file, as a source hands it over. */
export interface FleetDocument {
  readonly text: string;
  /** The git commit (or, for a plain file, `file:<sha256 prefix>`) the text belongs to. */
  readonly revision: string;
  /** Names the document in error messages: `fleet/fleet.yaml@1a2b3c4d5e6f` or a file path. */
  readonly origin: string;
}

/** Where the desired state comes from: a git repository, or a plain file. */
export interface FleetSource {
  readonly description: string;
  /** Reads the current version (fetching first, for git). */
  read(): Promise<FleetDocument>;
}
