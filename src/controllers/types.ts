// What every controller gets from the controller-manager for one leadership term:
// shared informers (started by the manager once every controller asked for its own),
// a client for reads, the fenced client for writes, an event recorder and a logger.
import type { Registry } from 'prom-client'
import type { EventRecorder, Logger, RestClient, SharedInformerFactory } from '../client/index.js'

export interface ControllerContext {
  informers: SharedInformerFactory
  client: RestClient
  /** Every write a controller makes goes through this: fenced by the controller-manager's Lease. */
  writer: RestClient
  events(component: string): EventRecorder
  logger: Logger
  metrics?: Registry
}

export interface Controller {
  /** kube-controller-manager's name for it (`serviceaccount`, `deployment`, …), for --controllers and logs. */
  readonly name: string
  /** Runs until `signal` aborts; informers are synced before it is called. */
  run(signal: AbortSignal): Promise<void>
}

/** Builds a controller for one term: registers its informers and handlers on `ctx.informers`. */
export type ControllerFactory = (ctx: ControllerContext) => Controller
