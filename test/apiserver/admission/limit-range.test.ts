// LimitRanger admission through real HTTP: defaults for containers that leave out
// requests or limits, and min/max/ratio for Containers, Pods and claims refused with
// Kubernetes' exact Forbidden messages.
import t from 'tap'
import { call, createNamespace, detail, pod, startServers } from './helpers/servers.js'

function limitRange(name: string, ...limits: Record<string, unknown>[]): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'LimitRange', metadata: { name }, spec: { limits } }
}

function claim(name: string, storage: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } } },
  }
}

t.test('LimitRange', async (t) => {
  const [{ url }] = await startServers(t)

  const setup = async (ns: string, lr: Record<string, unknown>): Promise<void> => {
    await createNamespace(t, url, ns)
    const r = await call(url, 'POST', `/api/v1/namespaces/${ns}/limitranges`, lr)
    t.equal(r.status, 201, detail(r))
  }

  t.test('defaults fill what containers leave out', async (t) => {
    await setup('lr-defaults', limitRange('defaults', { type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' } }))
    const bare = await call(url, 'POST', '/api/v1/namespaces/lr-defaults/pods', pod('bare'))
    t.equal(bare.status, 201, detail(bare))
    t.same(bare.body.spec.containers[0].resources, { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } })
    t.equal(bare.body.metadata.annotations['kubernetes.io/limit-ranger'], 'LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app')
    t.equal(bare.body.status.qosClass, 'Burstable', 'the QoS class follows the defaults')

    const partial = await call(url, 'POST', '/api/v1/namespaces/lr-defaults/pods', pod('partial', { requests: { cpu: '200m' }, limits: { memory: '200Mi' } }))
    t.equal(partial.status, 201, detail(partial))
    t.same(partial.body.spec.containers[0].resources, { limits: { cpu: '500m', memory: '200Mi' }, requests: { cpu: '200m', memory: '200Mi' } }, 'what the pod set is kept')
    t.equal(partial.body.metadata.annotations['kubernetes.io/limit-ranger'], 'LimitRanger plugin set: cpu limit for container app')

    const got = await call(url, 'GET', '/api/v1/namespaces/lr-defaults/pods/bare')
    t.same(got.body.spec.containers[0].resources.requests, { cpu: '100m', memory: '128Mi' }, 'the defaults are stored')
  })

  t.test('a default limit below the container request makes the pod invalid', async (t) => {
    await setup('lr-invalid', limitRange('defaults', { type: 'Container', default: { cpu: '500m' } }))
    const r = await call(url, 'POST', '/api/v1/namespaces/lr-invalid/pods', pod('p', { requests: { cpu: '1' } }))
    t.equal(r.status, 422, detail(r))
    t.equal(r.body.reason, 'Invalid')
    t.match(r.body.message, 'must be less than or equal to cpu limit of 500m')
  })

  t.test('container min and max', async (t) => {
    await setup('lr-minmax', limitRange('cpu', { type: 'Container', min: { cpu: '100m' }, max: { cpu: '500m' } }))
    const big = await call(url, 'POST', '/api/v1/namespaces/lr-minmax/pods', pod('p', { limits: { cpu: '1' } }))
    t.equal(big.status, 403, detail(big))
    t.equal(big.body.reason, 'Forbidden')
    t.equal(big.body.message, 'pods "p" is forbidden: maximum cpu usage per Container is 500m, but limit is 1')
    t.same(big.body.details, { name: 'p', kind: 'pods' })

    const small = await call(url, 'POST', '/api/v1/namespaces/lr-minmax/pods', pod('small', { requests: { cpu: '50m' }, limits: { cpu: '200m' } }))
    t.equal(small.status, 403)
    t.equal(small.body.message, 'pods "small" is forbidden: minimum cpu usage per Container is 100m, but request is 50m')

    const two = await call(url, 'POST', '/api/v1/namespaces/lr-minmax/pods', pod('two', { requests: { cpu: '50m' }, limits: { cpu: '200m' } }, { limits: { cpu: '2' } }))
    t.equal(two.status, 403)
    t.equal(
      two.body.message,
      'pods "two" is forbidden: [minimum cpu usage per Container is 100m, but request is 50m, maximum cpu usage per Container is 500m, but limit is 2]',
      'every violation, in Go aggregate form',
    )

    // With no limit given, the LimitRange's max becomes the default limit (LimitRange defaulting).
    const ok = await call(url, 'POST', '/api/v1/namespaces/lr-minmax/pods', pod('ok', { requests: { cpu: '200m' } }))
    t.equal(ok.status, 201, detail(ok))
    t.same(ok.body.spec.containers[0].resources, { limits: { cpu: '500m' }, requests: { cpu: '200m' } })
  })

  t.test('maxLimitRequestRatio', async (t) => {
    await setup('lr-ratio', limitRange('ratio', { type: 'Container', maxLimitRequestRatio: { cpu: '2' } }))
    const r = await call(url, 'POST', '/api/v1/namespaces/lr-ratio/pods', pod('p', { requests: { cpu: '100m' }, limits: { cpu: '500m' } }))
    t.equal(r.status, 403)
    t.equal(r.body.message, 'pods "p" is forbidden: cpu max limit to request ratio per Container is 2, but provided ratio is 5.000000')
    const ok = await call(url, 'POST', '/api/v1/namespaces/lr-ratio/pods', pod('ok', { requests: { cpu: '250m' }, limits: { cpu: '500m' } }))
    t.equal(ok.status, 201, detail(ok))
    const none = await call(url, 'POST', '/api/v1/namespaces/lr-ratio/pods', pod('none'))
    t.equal(none.body.message, 'pods "none" is forbidden: cpu max limit to request ratio per Container is 2, but no request is specified or request is 0')
  })

  t.test('pod max over the sum of its containers', async (t) => {
    await setup('lr-pod', limitRange('pod', { type: 'Pod', max: { memory: '1Gi' } }))
    const r = await call(url, 'POST', '/api/v1/namespaces/lr-pod/pods', pod('p', { limits: { memory: '600Mi' } }, { limits: { memory: '600Mi' } }))
    t.equal(r.status, 403, detail(r))
    t.equal(r.body.message, 'pods "p" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 1200Mi')
    const ok = await call(url, 'POST', '/api/v1/namespaces/lr-pod/pods', pod('ok', { limits: { memory: '500Mi' } }, { limits: { memory: '500Mi' } }))
    t.equal(ok.status, 201, detail(ok))
  })

  t.test('claim storage min and max', async (t) => {
    await setup('lr-pvc', limitRange('storage', { type: 'PersistentVolumeClaim', min: { storage: '1Gi' }, max: { storage: '2Gi' } }))
    const big = await call(url, 'POST', '/api/v1/namespaces/lr-pvc/persistentvolumeclaims', claim('big', '10Gi'))
    t.equal(big.status, 403, detail(big))
    t.equal(big.body.message, 'persistentvolumeclaims "big" is forbidden: maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 10Gi')
    const small = await call(url, 'POST', '/api/v1/namespaces/lr-pvc/persistentvolumeclaims', claim('small', '500Mi'))
    t.equal(small.body.message, 'persistentvolumeclaims "small" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi')
    const ok = await call(url, 'POST', '/api/v1/namespaces/lr-pvc/persistentvolumeclaims', claim('ok', '1536Mi'))
    t.equal(ok.status, 201, detail(ok))

    // Growing a bound claim is held to the max; its status writes are not checked.
    const bound = await call(url, 'PUT', '/api/v1/namespaces/lr-pvc/persistentvolumeclaims/ok/status', { ...ok.body, status: { phase: 'Bound' } })
    t.equal(bound.status, 200, detail(bound))
    const grown = structuredClone(bound.body)
    grown.spec.resources.requests.storage = '3Gi'
    const grow = await call(url, 'PUT', '/api/v1/namespaces/lr-pvc/persistentvolumeclaims/ok', grown)
    t.equal(grow.status, 403, detail(grow))
    t.equal(grow.body.message, 'persistentvolumeclaims "ok" is forbidden: maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 3Gi')
    const tighter = await call(url, 'PUT', '/api/v1/namespaces/lr-pvc/limitranges/storage', limitRange('storage', { type: 'PersistentVolumeClaim', max: { storage: '1Gi' } }))
    t.equal(tighter.status, 200, detail(tighter))
    const statusWrite = await call(url, 'PUT', '/api/v1/namespaces/lr-pvc/persistentvolumeclaims/ok/status', { ...bound.body, status: { phase: 'Lost' } })
    t.equal(statusWrite.status, 200, detail(statusWrite))
  })

  t.test('dry run gets the defaults too, and namespaces without LimitRanges are untouched', async (t) => {
    await setup('lr-dry', limitRange('defaults', { type: 'Container', default: { cpu: '300m' } }))
    const dry = await call(url, 'POST', '/api/v1/namespaces/lr-dry/pods?dryRun=All', pod('d'))
    t.equal(dry.status, 201, detail(dry))
    t.same(dry.body.spec.containers[0].resources, { limits: { cpu: '300m' }, requests: { cpu: '300m' } })
    await createNamespace(t, url, 'lr-none')
    const plain = await call(url, 'POST', '/api/v1/namespaces/lr-none/pods', pod('p'))
    t.equal(plain.status, 201, detail(plain))
    t.same(plain.body.spec.containers[0].resources, {})
    t.equal(plain.body.metadata.annotations, undefined)
  })
})
