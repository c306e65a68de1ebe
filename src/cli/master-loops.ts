// The leader-only loops every master runs beside its apiserver: the scheduler and
// the controller-manager, each behind its own Lease in kube-system. Every master
// campaigns; only the holder runs the loop, with a client whose writes are fenced by
// the Lease, and stops it the moment the Lease is lost. They talk to their own
// master's apiserver over loopback, as kube-scheduler does on a kubeadm master.
import type { Registry } from 'prom-client'
import type { Logger } from '../client/logger.js'
import { RestClient, type RestClientOptions } from '../client/rest.js'
import { setQueueMetricsProvider } from '../client/workqueue.js'
import { workqueueMetrics } from '../client/workqueue-metrics.js'
import { LeaderElector, newIdentity } from '../leader-election/index.js'
import { ControllerManager, CONTROLLERS } from '../controllers/manager.js'
import { nodeLifecycleControllerFactory } from '../controllers/node-lifecycle/controller.js'
import type { NodeLifecycleOptions } from '../controllers/node-lifecycle/options.js'
import { horizontalPodAutoscalerControllerWith, type HorizontalPodAutoscalerOptions } from '../controllers/podautoscaler/controller.js'
import { Scheduler } from '../scheduler/scheduler.js'
import type { Profile } from '../scheduler/framework/types.js'

export interface LeaseTimings {
  leaseDurationMs: number
  renewDeadlineMs: number
  retryPeriodMs: number
}

export interface MasterLoopsOptions {
  /** This master's apiserver, e.g. `https://127.0.0.1:6443`. */
  apiUrl: string
  masterName: string
  logger: Logger & { child(bindings: object): Logger }
  metrics: Registry
  lease: LeaseTimings
  scheduler: boolean
  controllerManager: boolean
  /** kube-controller-manager's --controllers; default all. */
  controllers?: string[]
  schedulerProfiles?: Profile[]
  /** kube-controller-manager's --node-monitor-* and eviction flags. */
  nodeLifecycle?: NodeLifecycleOptions
  /** kube-controller-manager's --horizontal-pod-autoscaler-* flags. */
  horizontalPodAutoscaler?: HorizontalPodAutoscalerOptions
}

export class MasterLoops {
  private readonly abort = new AbortController()
  private readonly running: Promise<void>[] = []

  constructor(private readonly opts: MasterLoopsOptions) {}

  start(): void {
    // The controllers' named work queues report into this master's registry (one master per process).
    setQueueMetricsProvider(workqueueMetrics(this.opts.metrics))
    if (this.opts.scheduler) {
      this.campaign('kube-scheduler', (reader, writer, signal, log) =>
        new Scheduler({
          client: reader,
          writer,
          host: this.opts.masterName,
          logger: log,
          metrics: this.opts.metrics,
          ...(this.opts.schedulerProfiles === undefined ? {} : { profiles: this.opts.schedulerProfiles }),
        }).run(signal),
      )
    }
    if (this.opts.controllerManager) {
      this.campaign('kube-controller-manager', (reader, writer, signal, log) =>
        new ControllerManager({
          client: reader,
          writer,
          host: this.opts.masterName,
          logger: log,
          metrics: this.opts.metrics,
          ...(this.opts.controllers === undefined ? {} : { controllers: this.opts.controllers }),
          registry: this.registry(),
        }).run(signal),
      )
    }
  }

  /** CONTROLLERS with the ones this master's flags configure. */
  private registry(): typeof CONTROLLERS {
    const o = this.opts
    return {
      ...CONTROLLERS,
      ...(o.nodeLifecycle === undefined ? {} : { nodelifecycle: nodeLifecycleControllerFactory(o.nodeLifecycle) }),
      ...(o.horizontalPodAutoscaler === undefined ? {} : { horizontalpodautoscaling: horizontalPodAutoscalerControllerWith(o.horizontalPodAutoscaler) }),
    }
  }

  /** Stops the loops and hands the Leases over (released, so another master takes them at once). */
  async stop(): Promise<void> {
    this.abort.abort()
    await Promise.allSettled(this.running)
  }

  private clientOptions(extra: Partial<RestClientOptions> = {}): RestClientOptions {
    // Our own apiserver over loopback: its certificate names the master, not 127.0.0.1's owner.
    return { urls: this.opts.apiUrl, tls: { insecureSkipVerify: true }, qps: 0, userAgent: 'raftplane-master', ...extra }
  }

  /** Runs `loop` while this master holds the Lease `name`; its clients live for one term. */
  private campaign(name: string, loop: (reader: RestClient, writer: RestClient, signal: AbortSignal, log: Logger) => Promise<void>): void {
    const log = this.opts.logger.child({ component: name })
    const identity = newIdentity(this.opts.masterName)
    const elector: LeaderElector = new LeaderElector({
      client: new RestClient(this.clientOptions({ timeoutMs: this.opts.lease.renewDeadlineMs / 2 })),
      namespace: 'kube-system',
      name,
      identity,
      leaseDurationMs: this.opts.lease.leaseDurationMs,
      renewDeadlineMs: this.opts.lease.renewDeadlineMs,
      retryPeriodMs: this.opts.lease.retryPeriodMs,
      releaseOnCancel: true,
      logger: log,
      metrics: this.opts.metrics,
      onStartedLeading: (signal) => {
        log.info({ identity }, 'started leading')
        const reader = new RestClient(this.clientOptions())
        // The fenced client closes itself when the term ends; the reader is closed here.
        loop(reader, elector.fencedClient(this.clientOptions()), signal, log)
          .catch((err: unknown) => log.error({ err }, `${name} loop failed`))
          .finally(() => reader.close())
      },
      onStoppedLeading: () => log.info({ identity }, 'stopped leading'),
      onNewLeader: (holder) => log.info({ holder }, 'new leader observed'),
    })
    this.running.push(elector.run(this.abort.signal))
  }
}
