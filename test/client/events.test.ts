// The event recorder against a real API server: repeats fold into one Event with a
// growing count, distinct messages are distinct Events, and a failing write is dropped
// without reaching the caller.
/* eslint-disable @typescript-eslint/no-explicit-any -- Event bodies are read by path */
import t from 'tap'
import { Registry } from 'prom-client'
import { createApiServer } from '../../src/apiserver/index.js'
import { MemoryStorage } from '../../src/apiserver/storage/memory.js'
import { EventRecorder, RestClient } from '../../src/client/index.js'

t.test('events are written, and repeats aggregated', async (t) => {
  const api = createApiServer({ storage: new MemoryStorage(), metrics: new Registry() })
  const port = await api.listen({ host: '127.0.0.1', port: 0 })
  await api.ready()
  t.teardown(() => api.stop())
  const client = new RestClient({ urls: `http://127.0.0.1:${port}` })
  const rec = new EventRecorder({ client, component: 'default-scheduler', host: 'master-1' })
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'u-1', resourceVersion: '5' } }
  for (let i = 0; i < 3; i++) rec.event(pod, 'Warning', 'FailedScheduling', '0/2 nodes are available: 2 Insufficient cpu.')
  rec.event(pod, 'Normal', 'Scheduled', 'Successfully assigned default/web to n1')
  await rec.flush()
  const list = (await (await fetch(`http://127.0.0.1:${port}/api/v1/namespaces/default/events`)).json()) as any
  t.equal(list.items.length, 2, 'two distinct events')
  const failed = list.items.find((e: any) => e.reason === 'FailedScheduling')
  t.equal(failed.count, 3, 'repeats counted')
  t.equal(failed.type, 'Warning')
  t.same(failed.involvedObject, { kind: 'Pod', namespace: 'default', name: 'web', uid: 'u-1', apiVersion: 'v1', resourceVersion: '5' })
  t.same(failed.source, { component: 'default-scheduler', host: 'master-1' })
  t.match(failed.metadata.name, /^web\.[0-9a-f]+$/)
  t.ok(failed.firstTimestamp <= failed.lastTimestamp)

  // An event in a namespace that does not exist cannot be written: dropped, not thrown.
  rec.event({ ...pod, metadata: { ...pod.metadata, namespace: 'missing' } }, 'Normal', 'X', 'y')
  await rec.flush()
  t.pass('a failed write does not reach the caller')
})
