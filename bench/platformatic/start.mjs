// Platformatic DB over chaindb's PostgreSQL schema, for bench/peers.py.
//
//   PLT_BENCH_DATABASE_URL=postgresql://user@127.0.0.1:5432/chaindb_bench PLT_BENCH_PORT=8103 node start.mjs
//
// Why not `plt-db start`: when /.dockerenv exists, @platformatic/service forces
// server.hostname to 0.0.0.0 whatever the configuration says. Here we build the server and
// call listen() ourselves on 127.0.0.1. Run it with `node` directly (npx leaves a child process
// that keeps holding the port).
//
// The configuration is built here from the environment rather than read from a file, so the
// connection string never lands on disk. Environment:
//   PLT_BENCH_DATABASE_URL  postgres:// or postgresql:// URL (required)
//   PLT_BENCH_PORT          port on 127.0.0.1 (required)
//   PLT_BENCH_POOL_SIZE     database connections in the pool (default 10, Platformatic's own)
//   PLT_BENCH_LOG_LEVEL     pino level (default warn)
import { buildServer } from '@platformatic/db'

const HOST = '127.0.0.1'

function required (name) {
  const value = process.env[name]
  if (!value) {
    console.error(`start.mjs: ${name} is not set`)
    process.exit(2)
  }
  return value
}

const connectionString = required('PLT_BENCH_DATABASE_URL')
  .replace(/^postgresql\+psycopg:\/\//, 'postgresql://')
const port = Number.parseInt(required('PLT_BENCH_PORT'), 10)
const poolSize = Number.parseInt(process.env.PLT_BENCH_POOL_SIZE || '10', 10)

const config = {
  server: {
    hostname: HOST, // ignored in a container (see above); listen() below decides
    port,
    logger: { level: process.env.PLT_BENCH_LOG_LEVEL || 'warn' },
    healthCheck: false
  },
  db: {
    connectionString,
    poolSize,
    openapi: true,
    graphql: false,
    events: false,
    schemalock: false,
    // Platformatic's default: it fills created_at/updated_at itself. Switched off, both become
    // required body fields, as does every NOT NULL column (column defaults are not consulted):
    // the create body therefore carries status and verified too.
    autoTimestamp: { createdAt: 'created_at', updatedAt: 'updated_at' },
    // Platformatic's defaults (a page of 10, at most 100 rows; more is a 500), made explicit.
    limit: { default: 10, max: 100 }
  },
  types: { autogenerate: false },
  watch: false
  // No "migrations" key: nothing is ever applied to the database.
}

const app = await buildServer(config)
await app.listen({ host: HOST, port })
// bench/peers.py waits for this line.
console.log(`platformatic listening on http://${HOST}:${port} (pid ${process.pid})`)

let closing = false
async function shutdown (signal) {
  if (closing) return
  closing = true
  try {
    await app.close()
  } finally {
    process.exit(signal === 'SIGINT' ? 130 : 0)
  }
}
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))
