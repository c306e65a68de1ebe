// Printers of the networking, discovery, storage, scheduling, coordination and RBAC
// kinds, column for column as kube-apiserver's pkg/printers/internalversion, and the
// default "Name, Created At" table of kinds without a printer.
import { metaTime } from '../time.js'
import { arr, int, isRecord, rec, recs, str, type Json } from '../json.js'
import { doc } from './descriptions.js'
import { age, ageColumn, column, listWithMore, nameColumn, nameOf, type Printer } from './format.js'

const endpointslices: Printer = {
  columns: [
    nameColumn(),
    column('AddressType', 'string', doc('EndpointSlice.addressType')),
    column('Ports', 'string', doc('EndpointSlice.ports')),
    column('Endpoints', 'string', doc('EndpointSlice.endpoints')),
    ageColumn(),
  ],
  print(es, ctx) {
    const max = 3
    const ports = recs(es.ports)
    const portList = ports.slice(0, max).map((p) => (p.port != null ? String(int(p.port)) : p.name != null ? str(p.name) : '*'))
    const addresses = recs(es.endpoints).flatMap((e) => arr(e.addresses).map(str))
    return {
      cells: [nameOf(es), str(es.addressType), listWithMore(portList, ports.length, max, '<unset>'), listWithMore(addresses.slice(0, max), addresses.length, max, '<unset>'), age(es, ctx)],
    }
  },
}

function isDefaultClass(obj: Json): boolean {
  const a = rec(rec(obj.metadata).annotations)
  return a['storageclass.kubernetes.io/is-default-class'] === 'true' || a['storageclass.beta.kubernetes.io/is-default-class'] === 'true'
}

const storageclasses: Printer = {
  columns: [
    nameColumn(),
    column('Provisioner', 'string', doc('StorageClass.provisioner')),
    column('ReclaimPolicy', 'string', doc('StorageClass.reclaimPolicy')),
    column('VolumeBindingMode', 'string', doc('StorageClass.volumeBindingMode')),
    column('AllowVolumeExpansion', 'string', doc('StorageClass.allowVolumeExpansion')),
    ageColumn(),
  ],
  print(sc, ctx) {
    const name = isDefaultClass(sc) ? `${nameOf(sc)} (default)` : nameOf(sc)
    return {
      cells: [name, str(sc.provisioner), str(sc.reclaimPolicy) || 'Delete', str(sc.volumeBindingMode) || 'Immediate', sc.allowVolumeExpansion === true, age(sc, ctx)],
    }
  },
}

const leases: Printer = {
  columns: [nameColumn(), column('Holder', 'string', doc('LeaseSpec.holderIdentity')), ageColumn()],
  print: (l, ctx) => ({ cells: [nameOf(l), str(rec(l.spec).holderIdentity), age(l, ctx)] }),
}

const ingresses: Printer = {
  columns: [
    nameColumn(),
    column('Class', 'string', 'The name of the IngressClass resource that should be used for additional configuration'),
    column('Hosts', 'string', 'Hosts that incoming requests are matched against before the ingress rule'),
    column('Address', 'string', 'Address is a list containing ingress points for the load-balancer'),
    column('Ports', 'string', 'Ports of TLS configurations that open'),
    ageColumn(),
  ],
  print(ing, ctx) {
    const spec = rec(ing.spec)
    const rules = recs(spec.rules)
    const max = 3
    const hosts: string[] = []
    for (const r of rules) if (hosts.length < max && str(r.host) !== '') hosts.push(str(r.host))
    const hostText = hosts.length === 0 ? '*' : rules.length > max ? `${hosts.join(',')} + ${rules.length - max} more...` : hosts.join(',')
    const address: string[] = []
    for (const i of recs(rec(rec(ing.status).loadBalancer).ingress)) {
      const v = str(i.ip) || str(i.hostname)
      if (v !== '' && !address.includes(v)) address.push(v)
    }
    const ports = arr(spec.tls).length > 0 ? '80, 443' : '80'
    return { cells: [nameOf(ing), spec.ingressClassName != null ? str(spec.ingressClassName) : '<none>', hostText, address.join(','), ports, age(ing, ctx)] }
  },
}

const ingressclasses: Printer = {
  columns: [
    nameColumn(),
    column('Controller', 'string', 'Controller that is responsible for handling this class'),
    column('Parameters', 'string', 'A reference to a resource with additional parameters'),
    ageColumn(),
  ],
  print(ic, ctx) {
    const spec = rec(ic.spec)
    let params = '<none>'
    if (isRecord(spec.parameters)) {
      const p = spec.parameters
      params = str(p.kind) + (p.apiGroup != null ? `.${str(p.apiGroup)}` : '') + `/${str(p.name)}`
    }
    return { cells: [nameOf(ic), str(spec.controller), params, age(ic, ctx)] }
  },
}

const priorityclasses: Printer = {
  columns: [
    nameColumn(),
    column('Value', 'integer', doc('PriorityClass.value')),
    column('Global-Default', 'boolean', doc('PriorityClass.globalDefault')),
    ageColumn(),
    column('PreemptionPolicy', 'string', doc('PriorityClass.preemptionPolicy')),
  ],
  print: (pc, ctx) => ({ cells: [nameOf(pc), int(pc.value), pc.globalDefault === true, age(pc, ctx), str(pc.preemptionPolicy)] }),
}

function subjectStrings(subjects: Json[]): [string[], string[], string[]] {
  const users: string[] = []
  const groups: string[] = []
  const sas: string[] = []
  for (const s of subjects) {
    if (s.kind === 'User') users.push(str(s.name))
    else if (s.kind === 'Group') groups.push(str(s.name))
    else if (s.kind === 'ServiceAccount') sas.push(`${str(s.namespace)}:${str(s.name)}`)
  }
  return [users, groups, sas]
}

function bindingPrinter(kind: 'roleBinding' | 'clusterRoleBinding'): Printer {
  const docKey = kind === 'roleBinding' ? 'RoleBinding.roleRef' : 'ClusterRoleBinding.roleRef'
  return {
    columns: [
      nameColumn(),
      column('Role', 'string', doc(docKey)),
      ageColumn(),
      { ...column('Users', 'string', `Users in the ${kind}`), priority: 1 },
      { ...column('Groups', 'string', `Groups in the ${kind}`), priority: 1 },
      { ...column('ServiceAccounts', 'string', `ServiceAccounts in the ${kind}`), priority: 1 },
    ],
    print(b, ctx) {
      const ref = rec(b.roleRef)
      const [users, groups, sas] = subjectStrings(recs(b.subjects))
      return { cells: [nameOf(b), `${str(ref.kind)}/${str(ref.name)}`, age(b, ctx), users.join(', '), groups.join(', '), sas.join(', ')] }
    },
  }
}

/** rest.NewDefaultTableConvertor: Name and "Created At" (RFC 3339, UTC). */
export const defaultPrinter: Printer = {
  columns: [nameColumn(), column('Created At', 'date', doc('ObjectMeta.creationTimestamp'))],
  print(obj) {
    const created = str(rec(obj.metadata).creationTimestamp)
    const t = Date.parse(created)
    // Go formats the zero time for objects without one.
    const text = Number.isNaN(t) ? '0001-01-01T00:00:00Z' : metaTime(new Date(t))
    return { cells: [nameOf(obj), text] }
  },
}

export const OTHER_PRINTERS: Record<string, Printer> = {
  endpointslices,
  storageclasses,
  leases,
  ingresses,
  ingressclasses,
  priorityclasses,
  rolebindings: bindingPrinter('roleBinding'),
  clusterrolebindings: bindingPrinter('clusterRoleBinding'),
  // Roles, ClusterRoles and LimitRanges print as "Name, Created At" upstream too.
  roles: defaultPrinter,
  clusterroles: defaultPrinter,
  limitranges: defaultPrinter,
}
