// The part of hpack.js (no published types) that src/kv/server/authority-fix.ts uses.
declare module 'hpack.js' {
  interface Field {
    name: string
    value: string
    neverIndex?: boolean
  }
  interface Options {
    table: { size: number }
  }
  export interface Decompressor {
    write(block: Buffer): void
    execute(): void
    read(): Field | null
  }
  export interface Compressor {
    write(fields: Field[]): void
    read(): Buffer | null
  }
  const hpack: {
    decompressor: { create(opts: Options): Decompressor }
    compressor: { create(opts: Options): Compressor }
  }
  export default hpack
}
