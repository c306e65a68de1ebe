// The slice of a pino logger the client uses, so callers pass their component's
// child logger and tests pass nothing.

export interface Logger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

const noop = (): void => {}

export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop }

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
