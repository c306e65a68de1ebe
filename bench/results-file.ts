// Keeps bench/RESULTS.md current: each benchmark owns one section, delimited by
// HTML comments, which a run replaces whole (date, machine, command, table).
import { readFile, writeFile } from 'node:fs/promises'
import { cpus, totalmem, type } from 'node:os'

export function machineLine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU'
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${type()}, Node ${process.version}`
}

/** Replace (or append) the section named `name` in the results file. */
export async function writeResultsSection(file: string, name: string, title: string, body: string): Promise<void> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    text = '# Benchmark results\n'
  }
  const begin = `<!-- ${name}:begin -->`
  const end = `<!-- ${name}:end -->`
  const section = `${begin}\n## ${title}\n\n${body.trim()}\n${end}`
  const at = text.indexOf(begin)
  const stop = text.indexOf(end)
  text = at >= 0 && stop > at ? text.slice(0, at) + section + text.slice(stop + end.length) : `${text.trimEnd()}\n\n${section}\n`
  await writeFile(file, text)
}
