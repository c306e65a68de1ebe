// The beta OS/arch node labels follow the stable ones (pure).
import t from 'tap'
import { labelsToReconcile } from '../../../src/controllers/node-lifecycle/labels.js'

const node = (labels: Record<string, string>) => ({ metadata: { name: 'n', labels } })

t.test('beta labels are added or corrected from the stable ones, never invented', async (t) => {
  t.same(labelsToReconcile(node({ 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'arm64' })), { 'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': 'arm64' })
  t.same(labelsToReconcile(node({ 'kubernetes.io/os': 'linux', 'beta.kubernetes.io/os': 'windows' })), { 'beta.kubernetes.io/os': 'linux' }, 'the stable label wins')
  t.equal(labelsToReconcile(node({ 'kubernetes.io/os': 'linux', 'beta.kubernetes.io/os': 'linux' })), undefined, 'already equal')
  t.equal(labelsToReconcile(node({ 'beta.kubernetes.io/os': 'linux' })), undefined, 'no stable label: nothing to do')
})
