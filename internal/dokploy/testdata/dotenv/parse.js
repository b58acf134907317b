// Reads a JSON array of env texts on stdin and prints a JSON array with
// dotenv's parse() of each, so one node process serves a whole batch.
// Usage: node parse.js <path to the dotenv package directory>
'use strict'
const dotenv = require(process.argv[2])
const chunks = []
process.stdin.on('data', (c) => chunks.push(c))
process.stdin.on('end', () => {
  const texts = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  const out = texts.map((t) => dotenv.parse(t))
  process.stdout.write(JSON.stringify(out))
})
