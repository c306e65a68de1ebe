// RestClient options from a kubeconfig, as kubectl reads one: the current (or a
// named) context picks a cluster (server, CA, insecure-skip-tls-verify,
// tls-server-name) and a user (bearer token or token file, client certificate and
// key, inline `-data` or as files relative to the kubeconfig's folder).
import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, join } from 'node:path'
import { parse } from 'yaml'
import type { RestClientOptions } from './rest.js'

interface NamedCluster {
  name: string
  cluster: {
    server?: string
    'certificate-authority'?: string
    'certificate-authority-data'?: string
    'insecure-skip-tls-verify'?: boolean
    'tls-server-name'?: string
  }
}

interface NamedUser {
  name: string
  user?: {
    token?: string
    tokenFile?: string
    'client-certificate'?: string
    'client-certificate-data'?: string
    'client-key'?: string
    'client-key-data'?: string
  }
}

interface NamedContext {
  name: string
  context: { cluster: string; user?: string; namespace?: string }
}

interface Kubeconfig {
  clusters?: NamedCluster[]
  users?: NamedUser[]
  contexts?: NamedContext[]
  'current-context'?: string
}

export interface KubeconfigOptions {
  /** A context other than current-context. */
  context?: string
  /** Where relative file paths in the kubeconfig are resolved (default: the current directory). */
  baseDir?: string
}

export type KubeconfigResult = RestClientOptions & { urls: string[]; namespace: string; context: string }

/** Reads a kubeconfig file; relative paths inside it are resolved against its folder. */
export function loadKubeconfig(path: string, opts: KubeconfigOptions = {}): KubeconfigResult {
  return parseKubeconfig(readFileSync(path, 'utf8'), { baseDir: dirname(path), ...opts })
}

export function parseKubeconfig(text: string, opts: KubeconfigOptions = {}): KubeconfigResult {
  const cfg = (parse(text) ?? {}) as Kubeconfig
  const contextName = opts.context ?? cfg['current-context']
  if (contextName === undefined || contextName === '') throw new Error('kubeconfig: no context given and no current-context set')
  const ctx = cfg.contexts?.find((c) => c.name === contextName)
  if (ctx === undefined) throw new Error(`kubeconfig: context "${contextName}" not found`)
  const cluster = cfg.clusters?.find((c) => c.name === ctx.context.cluster)?.cluster
  if (cluster?.server === undefined) throw new Error(`kubeconfig: cluster "${ctx.context.cluster}" not found or has no server`)
  const user = ctx.context.user === undefined ? undefined : cfg.users?.find((u) => u.name === ctx.context.user)?.user

  const file = (p: string): Buffer => readFileSync(isAbsolute(p) ? p : join(opts.baseDir ?? '.', p))
  const pick = (data: string | undefined, path: string | undefined): Buffer | undefined =>
    data !== undefined ? Buffer.from(data, 'base64') : path !== undefined ? file(path) : undefined

  const ca = pick(cluster['certificate-authority-data'], cluster['certificate-authority'])
  const cert = pick(user?.['client-certificate-data'], user?.['client-certificate'])
  const key = pick(user?.['client-key-data'], user?.['client-key'])
  const token = user?.token ?? (user?.tokenFile !== undefined ? file(user.tokenFile).toString('utf8').trim() : undefined)

  const result: KubeconfigResult = { urls: [cluster.server], namespace: ctx.context.namespace ?? 'default', context: contextName }
  const tls: NonNullable<RestClientOptions['tls']> = {}
  if (ca !== undefined) tls.ca = ca
  if (cert !== undefined) tls.cert = cert
  if (key !== undefined) tls.key = key
  if (cluster['insecure-skip-tls-verify'] === true) tls.insecureSkipVerify = true
  if (cluster['tls-server-name'] !== undefined) tls.serverName = cluster['tls-server-name']
  if (Object.keys(tls).length > 0) result.tls = tls
  if (token !== undefined) result.token = token
  return result
}
