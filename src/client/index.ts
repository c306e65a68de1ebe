// The client library every in-cluster component uses: REST with failover across
// masters, informers with indexed caches, and rate-limited work queues. A controller
// in outline:
//
//   const client = new RestClient({ urls: masters, token })
//   const factory = new SharedInformerFactory(client)
//   const pods = factory.forResource(podsType, { indexers: { byNode: fieldIndexFunc('spec.nodeName') } })
//   const queue = new RateLimitingQueue<string>()
//   pods.addEventHandler({ onAdd: (o) => queue.add(metaNamespaceKey(o)), onUpdate: (_, o) => queue.add(metaNamespaceKey(o)),
//                          onDelete: (o) => queue.add(deletionHandlingKey(o)) })
//   factory.start(); await factory.waitForCacheSync()
//   await runWorkers(queue, 2, async (key) => { /* read pods.indexer, write through client.resource(...) */ })
export * from './types.js'
export * from './errors.js'
export * from './clock.js'
export * from './logger.js'
export { TokenBucket } from './token-bucket.js'
export { Backoff, type BackoffOptions } from './backoff.js'
export * from './rest.js'
export * from './resource.js'
export { WatchStream } from './watch.js'
export * from './store.js'
export * from './reflector.js'
export * from './informer.js'
export * from './informer-factory.js'
export * from './rate-limiters.js'
export * from './workqueue.js'
export { workqueueMetrics } from './workqueue-metrics.js'
export * from './kubeconfig.js'
export * from './events.js'
