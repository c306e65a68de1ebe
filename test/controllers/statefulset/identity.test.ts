// StatefulSet identities and revision data, without a server.
import t from 'tap'
import { claimName, identityMatches, newClaim, newPod, ordinalOf } from '../../../src/controllers/statefulset/identity.js'
import { revisionData, revisionsToPrune, revisionTemplate } from '../../../src/controllers/util/template-revisions.js'

const set = {
  metadata: { name: 'web', namespace: 'ns', uid: 'u' },
  spec: {
    serviceName: 'svc',
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }], volumes: [{ name: 'data', emptyDir: {} }, { name: 'cfg', emptyDir: {} }] } },
    volumeClaimTemplates: [{ metadata: { name: 'data', labels: { tier: 'db' } }, spec: { accessModes: ['ReadWriteOnce'] } }],
  },
}
const ref = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u', controller: true, blockOwnerDeletion: true }

t.test('ordinals from names', async (t) => {
  t.equal(ordinalOf('web', { metadata: { name: 'web-3' } }), 3)
  t.equal(ordinalOf('web', { metadata: { name: 'web-03' } }), undefined)
  t.equal(ordinalOf('web', { metadata: { name: 'web-x' } }), undefined)
  t.equal(ordinalOf('web', { metadata: { name: 'webby-1' } }), undefined)
  t.equal(ordinalOf('web', { metadata: { name: 'web-1-2' } }), undefined)
})

t.test('a new pod has its identity and its claims in place of same-named volumes', async (t) => {
  const pod = newPod(set, set.spec.template, 'web-abc', 2, ref)
  t.equal(pod.metadata!.name, 'web-2')
  t.equal(pod.metadata!.generateName, undefined)
  t.strictSame(pod.metadata!.labels, { app: 'web', 'controller-revision-hash': 'web-abc', 'statefulset.kubernetes.io/pod-name': 'web-2', 'apps.kubernetes.io/pod-index': '2' })
  t.match(pod.spec, { hostname: 'web-2', subdomain: 'svc' })
  t.strictSame((pod.spec as { volumes: unknown[] }).volumes, [{ name: 'cfg', emptyDir: {} }, { name: 'data', persistentVolumeClaim: { claimName: 'data-web-2' } }])
  t.ok(identityMatches(set, pod, 2))
  t.notOk(identityMatches(set, pod, 1))
  t.notOk(identityMatches(set, { ...pod, spec: { ...(pod.spec as object), subdomain: 'other' } }, 2))
})

t.test('claims: name, labels from the template and the selector', async (t) => {
  t.equal(claimName(set.spec.volumeClaimTemplates[0]!, 'web', 0), 'data-web-0')
  const c = newClaim(set, set.spec.volumeClaimTemplates[0]!, 0)
  t.strictSame(c.metadata, { name: 'data-web-0', namespace: 'ns', labels: { tier: 'db', app: 'web' } })
})

t.test('revision data round-trips the template; pruning keeps what is in use', async (t) => {
  const data = revisionData(set)
  t.strictSame(revisionTemplate({ data } as never), set.spec.template)
  const rev = (name: string, revision: number): { metadata: { name: string }; revision: number } => ({ metadata: { name }, revision })
  const all = [rev('a', 1), rev('b', 2), rev('c', 3), rev('d', 4), rev('e', 5)]
  const prune = revisionsToPrune({ current: all[3]!, update: all[4]!, all, collisionCount: 0 }, [{ metadata: { labels: { h: 'a' } } }], 1, (p) => p.metadata?.labels?.h)
  t.strictSame(prune.map((r) => r.metadata!.name), ['b'], 'in use by a pod: a; current and update: d, e; history of 1 keeps c')
})
