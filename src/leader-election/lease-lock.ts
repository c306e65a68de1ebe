// The Lease object behind one election (client-go's resourcelock.LeaseLock): read it,
// create it, and replace its spec guarded by the resourceVersion we last saw, so two
// candidates writing at once cannot both win (the loser gets 409 Conflict). Requests
// are sent once (maxRetries 0, failover to another master still happens): the elector
// paces its own retries and must never sit in a client backoff past its deadline.
import type { RestClient } from '../client/rest.js'
import { type LeaderElectionRecord, type Lease, leaseSpec, recordFromLease } from './record.js'

export class LeaseLock {
  /** The Lease as last read or written; its resourceVersion guards the next update. */
  private lease: Lease | undefined

  constructor(
    private readonly client: RestClient,
    readonly namespace: string,
    readonly name: string,
  ) {}

  /** `namespace/name`, as logs and the fence header name the lease. */
  describe(): string {
    return `${this.namespace}/${this.name}`
  }

  /** The last Lease object seen (for Events about it). */
  get object(): Lease | undefined {
    return this.lease
  }

  /** Whether an update can be tried without reading first. */
  get initialized(): boolean {
    return this.lease !== undefined
  }

  private path(withName: boolean): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.namespace)}/leases`
    return withName ? `${base}/${encodeURIComponent(this.name)}` : base
  }

  async get(signal?: AbortSignal): Promise<LeaderElectionRecord> {
    const lease = await this.client.requestJson<Lease>({ method: 'GET', path: this.path(true), signal, maxRetries: 0 })
    this.lease = lease
    return recordFromLease(lease)
  }

  async create(r: LeaderElectionRecord, signal?: AbortSignal): Promise<void> {
    const body: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace },
      spec: leaseSpec(r),
    }
    this.lease = await this.client.requestJson<Lease>({ method: 'POST', path: this.path(false), body, signal, maxRetries: 0 })
  }

  /** Replaces the spec of the Lease last seen; 409 Conflict if it changed since. */
  async update(r: LeaderElectionRecord, signal?: AbortSignal): Promise<void> {
    const last = this.lease
    if (last === undefined) throw new Error('lease not initialized, call get or create first')
    const body: Lease = { ...last, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', spec: leaseSpec(r) }
    this.lease = await this.client.requestJson<Lease>({ method: 'PUT', path: this.path(true), body, signal, maxRetries: 0 })
  }
}
