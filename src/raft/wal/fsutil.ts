// File-system steps that make creates, renames and deletes survive a power cut: a
// directory entry lives in the directory's own data, so the directory must be fsynced too.
import { type FileHandle, mkdir, open, rename } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** mkdir -p, then make each newly created directory's entry durable in its parent. */
export async function ensureDir(dir: string): Promise<void> {
  const target = resolve(dir)
  const created = await mkdir(target, { recursive: true })
  if (created === undefined) return
  for (let d = target; ; d = dirname(d)) {
    await fsyncDir(dirname(d))
    if (d === created) return
  }
}

/**
 * Write a file so that after a crash it either does not exist or is complete:
 * temp file, datasync, rename over the final name, fsync the directory.
 */
export async function writeFileAtomic(path: string, chunks: Uint8Array[]): Promise<void> {
  const tmp = `${path}.tmp`
  const fh = await open(tmp, 'w')
  try {
    let position = 0
    for (const chunk of chunks) {
      await writeAll(fh, chunk, position)
      position += chunk.length
    }
    await fh.datasync()
  } finally {
    await fh.close()
  }
  await rename(tmp, path)
  await fsyncDir(dirname(path))
}

/** write(2) may write less than asked; loop until the whole buffer is at `position`. */
export async function writeAll(fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let off = 0
  while (off < data.length) {
    const { bytesWritten } = await fh.write(data, off, data.length - off, position + off)
    off += bytesWritten
  }
}
