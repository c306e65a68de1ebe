#!/usr/bin/env node
// Runs the compiled CLI (src/cli/main.ts). `npm ci` compiles it into dist/
// through the package's `prepare` script; `npm run build` does it by hand.
import { existsSync } from 'node:fs'

const entry = new URL('../dist/src/cli/main.js', import.meta.url)
if (!existsSync(entry)) {
  console.error('raftplane: the compiled CLI (dist/) is missing; run `npm run build` first')
  process.exit(1)
}
const { main } = await import(entry.href)
await main(process.argv)
