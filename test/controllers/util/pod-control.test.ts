// Slow-start batches, and pods built from a template.
import t from 'tap'
import { podFromTemplate, slowStartBatch } from '../../../src/controllers/util/pod-control.js'

t.test('slow start: batches double while every call succeeds', async (t) => {
  const inFlight: number[] = []
  let running = 0
  let calls = 0
  const res = await slowStartBatch(10, async () => {
    calls++
    running++
    inFlight.push(running)
    await new Promise((r) => setImmediate(r))
    running--
  })
  t.strictSame(res, { succeeded: 10 })
  t.equal(calls, 10)
  t.ok(Math.max(...inFlight) <= 4, 'batches of 1, 2, 4, then the remaining 3')
})

t.test('slow start: stops after the first batch with a failure', async (t) => {
  let calls = 0
  const res = await slowStartBatch(20, async () => {
    calls++
    if (calls === 5) throw new Error('quota')
  })
  t.equal(calls, 7, 'batches 1 and 2 pass, the batch of 4 fails, no more are tried')
  t.equal(res.succeeded, 6)
  t.match(String(res.error), /quota/)
})

t.test('a pod from a template carries its labels, annotations and the controllerRef', async (t) => {
  const ref = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'u', controller: true, blockOwnerDeletion: true }
  const template = { metadata: { labels: { app: 'web' }, annotations: { a: 'b' }, name: 'ignored' }, spec: { containers: [{ name: 'c', image: 'x' }] } }
  const pod = podFromTemplate(template, 'web-abc', ref)
  t.strictSame(pod.metadata, { generateName: 'web-abc-', labels: { app: 'web' }, annotations: { a: 'b' }, ownerReferences: [ref] })
  t.strictSame(pod.spec, template.spec)
  ;(pod.spec as { containers: unknown[] }).containers.push({})
  t.equal(template.spec.containers.length, 1, 'the template is not shared with the pod')
})
