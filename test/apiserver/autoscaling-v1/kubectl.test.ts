// autoscaling/v1 HorizontalPodAutoscalers over the stored autoscaling/v2 objects, driven
// by the real kubectl 1.32 against an in-process API server on memory storage:
// `kubectl autoscale` (a protobuf v1 POST), reads in both versions, v1 patches of each
// type, a v1 replace that keeps what only v2 can say, a v1 watch, status, delete, and
// discovery listing both versions with v2 preferred.
//
// kubectl drops the version of a short name (`hpa.v1.autoscaling` reads v2, as against
// kube-apiserver), so v1 requests name the resource in full.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import t, { type Test } from 'tap'
import { createApiServer } from '../../../src/apiserver/index.js'
import { MemoryStorage } from '../../../src/apiserver/storage/memory.js'

const KUBECTL = '/usr/bin/kubectl'
const V1 = 'horizontalpodautoscalers.v1.autoscaling'
const V1_PATH = '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers'
const V2_PATH = '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers'

interface Result {
  code: number
  stdout: string
  stderr: string
}

async function start(t: Test): Promise<{ url: string; kubectl: (args: string[], input?: string) => Promise<Result> }> {
  const api = createApiServer({ storage: new MemoryStorage(), metrics: new Registry() })
  const port = await api.listen({ host: '127.0.0.1', port: 0 })
  await api.ready()
  t.teardown(() => api.stop())
  const url = `http://127.0.0.1:${port}`
  const dir = mkdtempSync(join(tmpdir(), 'hpa-v1-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const kubeconfig = join(dir, 'kubeconfig')
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "${url}"}\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: c\n  context: {cluster: c, user: u, namespace: default}\ncurrent-context: c\n`,
  )
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir }
  const kubectl = (args: string[], input?: string): Promise<Result> =>
    new Promise((resolve) => {
      const child = execFile(KUBECTL, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { env, timeout: 50_000 }, (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
      )
      if (input !== undefined) child.stdin?.end(input)
    })
  return { url, kubectl }
}

async function call(url: string, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: any }> {
  const res = await fetch(url + path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': contentType } }) })
  const text = await res.text()
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) }
}

/** Watch events from `path` until `done` holds for one (or 20 s pass). */
async function watchUntil(url: string, path: string, done: (ev: any) => boolean, started: () => Promise<void>): Promise<any[]> {
  const ac = new AbortController()
  const timer = setTimeout(() => ac.abort(), 20_000)
  const res = await fetch(url + path, { signal: ac.signal })
  const events: any[] = []
  const reading = (async () => {
    let buf = ''
    const dec = new TextDecoder()
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += dec.decode(chunk, { stream: true })
        let nl
        while ((nl = buf.indexOf('\n')) >= 0) {
          const ev = JSON.parse(buf.slice(0, nl))
          buf = buf.slice(nl + 1)
          events.push(ev)
          if (done(ev)) return
        }
      }
    } catch {
      // aborted
    }
  })()
  await started()
  await reading
  clearTimeout(timer)
  ac.abort()
  return events
}

t.test('kubectl autoscale and autoscaling/v1 over the stored v2 objects', { skip: existsSync(KUBECTL) ? false : `no ${KUBECTL}` }, async (t) => {
  const { url, kubectl } = await start(t)
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await kubectl(args, input)
    t.equal(r.code, 0, `kubectl ${args.join(' ')}${r.code === 0 ? '' : `: ${r.stderr}`}`)
    return r.stdout
  }
  const v2 = async (): Promise<any> => JSON.parse(await ok(['get', 'hpa', 'web', '-o', 'json']))

  t.match(await ok(['create', 'deployment', 'web', '--image=nginx:1']), /deployment.apps\/web created/)
  t.equal((await ok(['autoscale', 'deployment', 'web', '--cpu-percent=50', '--min=1', '--max=4'])).trim(), 'horizontalpodautoscaler.autoscaling/web autoscaled')

  // kubectl's own `hpa` is still v2, the stored version.
  const yaml = await ok(['get', 'hpa', 'web', '-o', 'yaml'])
  t.match(yaml, /^apiVersion: autoscaling\/v2$/m)
  let hpa = await v2()
  t.same(hpa.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }])
  t.same(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' })
  t.equal(hpa.spec.minReplicas, 1)
  t.equal(hpa.spec.maxReplicas, 4)
  t.equal(await ok(['get', V1, 'web', '-o', 'jsonpath={.spec.targetCPUUtilizationPercentage}']), '50')
  const asV1 = JSON.parse(await ok(['get', V1, 'web', '-o', 'json']))
  t.equal(asV1.apiVersion, 'autoscaling/v1')
  t.same(asV1.status, { currentReplicas: 0, desiredReplicas: 0 })
  t.equal(asV1.metadata.annotations, undefined, 'nothing v1 cannot say, so no round-trip annotations')

  // Tables: the same columns whichever version is asked.
  const table = await ok(['get', 'hpa'])
  t.match(table, /^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE$/m)
  t.match(table, /^web\s+Deployment\/web\s+cpu: <unknown>\/50%\s+1\s+4\s+0\s+/m)
  const v1Table = await ok(['get', V1])
  t.equal(v1Table.split('\n')[0], table.split('\n')[0])
  t.match(v1Table, /^web\s+Deployment\/web\s+cpu: <unknown>\/50%\s+1\s+4\s+0\s+/m)
  const v1List = JSON.parse(await ok(['get', V1, '-o', 'json']))
  t.same(v1List.items.map((i: any) => [i.apiVersion, i.spec.targetCPUUtilizationPercentage]), [['autoscaling/v1', 50]])

  // A v1 merge patch, watched in v1.
  const rv = asV1.metadata.resourceVersion
  const events = await watchUntil(url, `${V1_PATH}?watch=true&resourceVersion=${rv}`, (ev) => ev.type === 'MODIFIED', async () => {
    t.match(await ok(['patch', V1, 'web', '--type=merge', '-p', '{"spec":{"maxReplicas":6}}']), /horizontalpodautoscaler.autoscaling\/web patched/)
  })
  const modified = events.find((e) => e.type === 'MODIFIED')
  t.ok(modified, 'the v1 watch saw the change')
  t.equal(modified?.object.apiVersion, 'autoscaling/v1')
  t.equal(modified?.object.spec.maxReplicas, 6)
  t.equal(modified?.object.spec.targetCPUUtilizationPercentage, 50)
  t.equal((await v2()).spec.maxReplicas, 6)

  // Strategic (kubectl's default) and JSON patches of the v1 form.
  await ok(['patch', V1, 'web', '-p', '{"spec":{"minReplicas":2},"metadata":{"labels":{"tier":"web"}}}'])
  await ok(['patch', V1, 'web', '--type=json', '-p', '[{"op":"replace","path":"/spec/targetCPUUtilizationPercentage","value":70}]'])
  hpa = await v2()
  t.equal(hpa.spec.minReplicas, 2)
  t.same(hpa.metadata.labels, { tier: 'web' })
  t.same(hpa.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }])

  // What only v2 can say survives a v1 read-modify-replace (the round-trip annotations).
  hpa.spec.metrics.unshift({ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } })
  hpa.spec.behavior = { scaleDown: { stabilizationWindowSeconds: 60 } }
  await ok(['replace', '-f', '-'], JSON.stringify(hpa))
  const before = await v2()
  const readV1 = JSON.parse(await ok(['get', V1, 'web', '-o', 'json']))
  t.match(readV1.metadata.annotations['autoscaling.alpha.kubernetes.io/metrics'], /memory/)
  readV1.spec.maxReplicas = 8
  await ok(['replace', '-f', '-'], JSON.stringify(readV1))
  const after = await v2()
  t.equal(after.spec.maxReplicas, 8)
  t.same(after.spec.metrics, before.spec.metrics, 'the memory metric is kept')
  t.same(after.spec.behavior, before.spec.behavior, 'the behavior is kept')
  t.equal(after.metadata.annotations, undefined, 'round-trip annotations are not stored')

  // The status subresource in v1.
  const cur = (await call(url, 'GET', `${V1_PATH}/web`)).body
  const st = await call(url, 'PUT', `${V1_PATH}/web/status`, { ...cur, status: { currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 35 } })
  t.equal(st.status, 200, JSON.stringify(st.body))
  t.equal(st.body.apiVersion, 'autoscaling/v1')
  t.equal(st.body.status.currentCPUUtilizationPercentage, 35)
  hpa = await v2()
  t.same(hpa.status.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 35 } } }])
  t.equal(hpa.status.desiredReplicas, 3)
  t.equal(hpa.spec.maxReplicas, 8, 'a status write leaves the spec alone')

  // Errors keep Kubernetes' Status shapes.
  const bad = await kubectl(['patch', V1, 'web', '--type=merge', '-p', '{"spec":{"maxReplicas":0}}'])
  t.not(bad.code, 0)
  t.match(bad.stderr, /HorizontalPodAutoscaler "web" is invalid[\s\S]*spec\.maxReplicas: Invalid value: 0: must be greater than 0/)
  const undecodable = await call(url, 'POST', V1_PATH, { metadata: { name: 'x', annotations: { 'autoscaling.alpha.kubernetes.io/metrics': '{' } }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 2 } })
  t.equal(undecodable.status, 400)
  t.match(undecodable.body, { kind: 'Status', reason: 'BadRequest', message: /HorizontalPodAutoscaler in version "v1" cannot be handled/ })
  const unknown = await kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 2, bogus: 1 } }))
  t.not(unknown.code, 0)
  // kubectl validates from /openapi/v2 (no v3 document for autoscaling/v1 here); the server checks too.
  t.match(unknown.stderr, /unknown field "bogus"/)
  const strict = await call(url, 'POST', `${V1_PATH}?fieldValidation=Strict`, { metadata: { name: 'x' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 2, bogus: 1 } })
  t.equal(strict.status, 400)
  t.match(strict.body.message, /strict decoding error: unknown field "spec.bogus"/)
  const wrongType = await call(url, 'POST', V1_PATH, { metadata: { name: 'x' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 'two' } })
  t.equal(wrongType.status, 400)
  t.match(wrongType.body.message, /cannot unmarshal string into Go struct field HorizontalPodAutoscalerSpec.spec.maxReplicas of type int32/)
  const wrongVersion = await call(url, 'POST', V1_PATH, { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x' } })
  t.equal(wrongVersion.status, 400)
  t.equal((await call(url, 'GET', `${V1_PATH}/missing`)).body.message, 'horizontalpodautoscalers.autoscaling "missing" not found')

  // A v1 create without minReplicas or a CPU target gets both defaults.
  const created = await call(url, 'POST', V1_PATH, { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'bare' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 3 } })
  t.equal(created.status, 201, JSON.stringify(created.body))
  t.equal(created.body.spec.minReplicas, 1)
  t.equal(created.body.spec.targetCPUUtilizationPercentage, 80)
  t.same((await call(url, 'GET', `${V2_PATH}/bare`)).body.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }])

  // Discovery: both versions, v2 preferred.
  const versions = (await ok(['api-versions'])).split('\n')
  t.ok(versions.includes('autoscaling/v1') && versions.includes('autoscaling/v2'), 'api-versions lists both')
  const group = (await call(url, 'GET', '/apis/autoscaling')).body
  t.same(group.versions.map((v: any) => v.groupVersion), ['autoscaling/v2', 'autoscaling/v1'])
  t.equal(group.preferredVersion.groupVersion, 'autoscaling/v2')
  const aggregated = await fetch(`${url}/apis`, { headers: { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' } })
  const autoscaling = ((await aggregated.json()) as any).items.find((i: any) => i.metadata.name === 'autoscaling')
  t.same(autoscaling.versions.map((v: any) => v.version), ['v2', 'v1'], 'aggregated: the preferred version first')
  t.same(autoscaling.versions[1].resources.map((r: any) => [r.resource, r.subresources.map((s: any) => s.subresource)]), [['horizontalpodautoscalers', ['status']]])
  const v1Resources = (await call(url, 'GET', '/apis/autoscaling/v1')).body.resources
  const v2Resources = (await call(url, 'GET', '/apis/autoscaling/v2')).body.resources
  t.same(v1Resources.map((r: any) => r.name), ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'])
  t.equal(v1Resources[0].storageVersionHash, v2Resources[0].storageVersionHash, 'one storage version')
  t.match(await ok(['api-resources', '--api-group=autoscaling']), /^horizontalpodautoscalers\s+hpa\s+autoscaling\/v2\s+true\s+HorizontalPodAutoscaler$/m)

  // Deletes through v1.
  t.match(await ok(['delete', V1, 'web']), /horizontalpodautoscaler.autoscaling "web" deleted/)
  const collection = await call(url, 'DELETE', V1_PATH)
  t.equal(collection.status, 200)
  t.match(collection.body, { kind: 'HorizontalPodAutoscalerList', apiVersion: 'autoscaling/v1', items: [{ apiVersion: 'autoscaling/v1', metadata: { name: 'bare' } }] })
  t.same((await call(url, 'GET', V2_PATH)).body.items, [])
})
