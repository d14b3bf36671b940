/** The gateway bench alone: `npx tsc -p tsconfig.json && node dist/bench/gateway-proxies-main.js`. */
import { benchGatewayProxies } from './gateway-proxies.js';

await benchGatewayProxies();
