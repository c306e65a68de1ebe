// The informer cache: keys, the namespace index and custom indexes kept right
// through adds, updates, deletes and replaces.
import t from 'tap'
import {
  controllerUidIndexFunc,
  DeletedFinalStateUnknown,
  deletionHandlingKey,
  fieldIndexFunc,
  Indexer,
  labelIndexFunc,
  metaNamespaceKey,
  NAMESPACE_INDEX,
  namespaceIndexFunc,
  splitMetaNamespaceKey,
} from '../../src/client/store.js'
import type { KubeObject } from '../../src/client/types.js'

function pod(ns: string, name: string, node?: string, labels?: Record<string, string>): KubeObject {
  return { kind: 'Pod', metadata: { namespace: ns, name, labels }, spec: node === undefined ? {} : { nodeName: node } }
}

t.test('keys', async (t) => {
  t.equal(metaNamespaceKey(pod('default', 'a')), 'default/a')
  t.equal(metaNamespaceKey({ metadata: { name: 'node-1' } }), 'node-1')
  t.equal(deletionHandlingKey(new DeletedFinalStateUnknown('ns/x', pod('ns', 'x'))), 'ns/x')
  t.same(splitMetaNamespaceKey('ns/x'), { namespace: 'ns', name: 'x' })
  t.same(splitMetaNamespaceKey('x'), { namespace: '', name: 'x' })
  t.throws(() => splitMetaNamespaceKey('a/b/c'))
  t.throws(() => metaNamespaceKey({ metadata: {} }), /no metadata.name/)
})

t.test('add, update, delete keep items and indexes in step', async (t) => {
  const ix = new Indexer<KubeObject>(metaNamespaceKey, {
    [NAMESPACE_INDEX]: namespaceIndexFunc,
    byNode: fieldIndexFunc('spec.nodeName'),
    byApp: labelIndexFunc('app'),
  })
  ix.add(pod('default', 'a', 'n1', { app: 'web' }))
  ix.add(pod('default', 'b', 'n2', { app: 'web' }))
  ix.add(pod('kube-system', 'c', 'n1'))
  ix.add(pod('default', 'd')) // not scheduled: not in byNode
  t.equal(ix.size, 4)
  t.same(ix.byIndex(NAMESPACE_INDEX, 'default').map(metaNamespaceKey).sort(), ['default/a', 'default/b', 'default/d'])
  t.same(ix.indexKeys('byNode', 'n1').sort(), ['default/a', 'kube-system/c'])
  t.same(ix.byIndex('byApp', 'web').length, 2)
  t.same(ix.listIndexFuncValues('byNode').sort(), ['n1', 'n2'])

  ix.update(pod('default', 'a', 'n2', { app: 'api' }))
  t.same(ix.indexKeys('byNode', 'n1'), ['kube-system/c'], 'moved off n1')
  t.same(ix.indexKeys('byNode', 'n2').sort(), ['default/a', 'default/b'])
  t.same(ix.indexKeys('byApp', 'web'), ['default/b'])
  t.same(ix.indexKeys('byApp', 'api'), ['default/a'])
  t.same((ix.getByKey('default/a')?.spec as { nodeName: string }).nodeName, 'n2')

  ix.delete(pod('kube-system', 'c'))
  t.same(ix.indexKeys('byNode', 'n1'), [])
  t.notOk(ix.listIndexFuncValues('byNode').includes('n1'), 'empty index values disappear')
  t.same(ix.byIndex(NAMESPACE_INDEX, 'kube-system'), [])
  ix.deleteKey('nope')
  t.equal(ix.size, 3)

  t.same(ix.byIndexOf('byNode', pod('x', 'y', 'n2')).map(metaNamespaceKey).sort(), ['default/a', 'default/b'])
  t.throws(() => ix.byIndex('missing', 'x'), /Index with name missing does not exist/)
  t.ok(ix.get(pod('default', 'b')))
  t.ok(ix.has('default/d'))
  t.same(ix.listKeys().sort(), ['default/a', 'default/b', 'default/d'])
})

t.test('replace swaps the whole content and rebuilds indexes', async (t) => {
  const ix = new Indexer<KubeObject>(metaNamespaceKey, { [NAMESPACE_INDEX]: namespaceIndexFunc, byNode: fieldIndexFunc('spec.nodeName') })
  ix.add(pod('a', 'x', 'n1'))
  ix.replace([pod('b', 'y', 'n2'), pod('b', 'z', 'n2')])
  t.same(ix.listKeys().sort(), ['b/y', 'b/z'])
  t.same(ix.indexKeys('byNode', 'n1'), [])
  t.same(ix.indexKeys('byNode', 'n2').sort(), ['b/y', 'b/z'])
  t.same(ix.byIndex(NAMESPACE_INDEX, 'a'), [])
})

t.test('indexers added later index what is already cached; a name is taken once', async (t) => {
  const ix = new Indexer<KubeObject>()
  ix.add(pod('a', 'x', 'n1', { tier: 'db' }))
  ix.add({
    metadata: { namespace: 'a', name: 'rs-pod', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true }] },
  })
  ix.addIndexers({ byTier: labelIndexFunc('tier'), byController: controllerUidIndexFunc })
  t.same(ix.indexKeys('byTier', 'db'), ['a/x'])
  t.same(ix.indexKeys('byController', 'u1'), ['a/rs-pod'])
  t.ok(ix.hasIndexer('byTier'))
  t.throws(() => ix.addIndexers({ byTier: labelIndexFunc('tier') }), /indexer conflict: byTier/)
})

t.test('objects with many index values', async (t) => {
  const ix = new Indexer<KubeObject>(metaNamespaceKey, {
    byFinalizer: (o) => o.metadata?.finalizers ?? [],
  })
  ix.add({ metadata: { name: 'a', finalizers: ['x', 'y'] } })
  ix.add({ metadata: { name: 'b', finalizers: ['y'] } })
  t.same(ix.indexKeys('byFinalizer', 'y').sort(), ['a', 'b'])
  ix.update({ metadata: { name: 'a', finalizers: ['y'] } })
  t.same(ix.indexKeys('byFinalizer', 'x'), [])
  t.same(ix.indexKeys('byFinalizer', 'y').sort(), ['a', 'b'])
  t.same(fieldIndexFunc('spec.replicas')({ spec: { replicas: 3 } }), ['3'])
  t.same(fieldIndexFunc('spec.nodeName')({ spec: { nodeName: '' } }), [])
  t.same(fieldIndexFunc('spec.a.b')({ spec: { a: 'str' } }), [])
})
