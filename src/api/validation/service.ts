// Services and their endpoints: core/v1 Service and Endpoints (core/validation) and
// discovery.k8s.io/v1 EndpointSlice (discovery/validation).
import { arr, isRecord, num, rec, recs, str, type Json } from '../json.js'
import { child, fieldErrors as fe, index, type FieldError } from './errors.js'
import { goQuote, goStringSlice, GoText } from './go-format.js'
import { SUPPORTED_PORT_PROTOCOLS, validateDNS1123Label } from './containers.js'
import { FIELD_IMMUTABLE, validateLabels, validateObjectMeta, validateObjectMetaUpdate, validateQualifiedName } from './meta.js'
import { isDNS1123Label, isDNS1123Subdomain, isIPv6, isValidPortName, isValidPortNum, nameIsDNS1035Label, nameIsDNSSubdomain, parseCIDR, parseIP } from './names.js'

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort']
const IP_FAMILIES = ['IPv4', 'IPv6']
const IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack']
const KUBELET_PORT = 10250
const MAX_CLIENT_IP_AFFINITY_SECONDS = 86400

export function validateIPAddress(value: string, path: string): FieldError[] {
  return parseIP(value) === undefined ? [fe.invalid(path, value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')] : []
}

/** ValidateNonSpecialIP: not unspecified, loopback or link-local. */
export function validateNonSpecialIP(value: string, path: string): FieldError[] {
  const ip = parseIP(value)
  if (ip === undefined) return [fe.invalid(path, value, 'must be a valid IP address')]
  const b = ip.bytes
  const errs: FieldError[] = []
  if (b.every((x) => x === 0)) errs.push(fe.invalid(path, value, `may not be unspecified (${value})`))
  const loopback = b.length === 4 ? b[0] === 127 : b.slice(0, 15).every((x) => x === 0) && b[15] === 1
  if (loopback) errs.push(fe.invalid(path, value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'))
  const linkLocal = b.length === 4 ? b[0] === 169 && b[1] === 254 : b[0] === 0xfe && (b[1] & 0xc0) === 0x80
  if (linkLocal) errs.push(fe.invalid(path, value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'))
  const llMulticast = b.length === 4 ? b[0] === 224 && b[1] === 0 && b[2] === 0 : b[0] === 0xff && (b[1] & 0x0f) === 0x02
  if (llMulticast) errs.push(fe.invalid(path, value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'))
  return errs
}

function clusterIPs(spec: Json): string[] {
  return arr(spec.clusterIPs).map(str)
}

function isHeadless(spec: Json): boolean {
  const ips = clusterIPs(spec)
  return ips.length === 1 && ips[0] === 'None'
}

// The Duplicate value upstream prints for a repeated (protocol, port) pair.
function servicePortKeyText(protocol: string, port: number): GoText {
  return new GoText(
    `core.ServicePort{Name:"", Protocol:${goQuote(protocol)}, AppProtocol:(*string)(nil), Port:${port}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`,
  )
}

function validateServicePort(sp: Json, requireName: boolean, names: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = []
  const name = str(sp.name)
  if (requireName && name === '') errs.push(fe.required(child(path, 'name'), ''))
  else if (name !== '') {
    errs.push(...validateDNS1123Label(name, child(path, 'name')))
    if (names.has(name)) errs.push(fe.duplicate(child(path, 'name'), name))
    else names.add(name)
  }
  const port = num(sp.port) ?? 0
  for (const m of isValidPortNum(port)) errs.push(fe.invalid(child(path, 'port'), port, m))
  const protocol = str(sp.protocol)
  if (protocol === '') errs.push(fe.required(child(path, 'protocol'), ''))
  else if (!SUPPORTED_PORT_PROTOCOLS.includes(protocol)) errs.push(fe.notSupported(child(path, 'protocol'), protocol, SUPPORTED_PORT_PROTOCOLS))
  const tp = sp.targetPort
  if (typeof tp === 'number') for (const m of isValidPortNum(tp)) errs.push(fe.invalid(child(path, 'targetPort'), tp, m))
  else if (typeof tp === 'string') for (const m of isValidPortName(tp)) errs.push(fe.invalid(child(path, 'targetPort'), tp, m))
  else errs.push(fe.internal(child(path, 'targetPort'), 'unknown type: 0'))
  if (sp.appProtocol != null) errs.push(...validateQualifiedName(str(sp.appProtocol), child(path, 'appProtocol')))
  return errs
}

function validateClusterIPFields(spec: Json): FieldError[] {
  if (spec.type === 'ExternalName') return []
  const errs: FieldError[] = []
  const ipsPath = child('spec', 'clusterIPs')
  const ips = clusterIPs(spec)
  const clusterIP = str(spec.clusterIP)
  if (clusterIP !== '') {
    if (ips.length === 0) errs.push(fe.required(ipsPath, ''))
    else if (ips[0] !== clusterIP) errs.push(fe.invalid(ipsPath, goStringSlice(ips), 'first value must match `clusterIP`'))
  } else if (ips.length !== 0) {
    errs.push(fe.invalid(ipsPath, goStringSlice(ips), 'must be empty when `clusterIP` is not specified'))
  }
  const families = arr(spec.ipFamilies).map(str)
  const seen = new Set<string>()
  families.forEach((f, i) => {
    const p = index(child('spec', 'ipFamilies'), i)
    if (!IP_FAMILIES.includes(f)) errs.push(fe.notSupported(p, f, IP_FAMILIES))
    if (seen.has(f)) errs.push(fe.duplicate(p, f))
    seen.add(f)
  })
  if (spec.ipFamilyPolicy != null && !IP_FAMILY_POLICIES.includes(str(spec.ipFamilyPolicy))) {
    errs.push(fe.notSupported(child('spec', 'ipFamilyPolicy'), str(spec.ipFamilyPolicy), IP_FAMILY_POLICIES))
  }
  let invalidIPs = false
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) {
        invalidIPs = true
        errs.push(fe.invalid(ipsPath, goStringSlice(ips), "'None' must be the first and only value"))
      }
      return
    }
    const e = validateIPAddress(ip, index(ipsPath, i))
    if (e.length > 0) invalidIPs = true
    errs.push(...e)
  })
  if (ips.length > 2) errs.push(fe.invalid(ipsPath, goStringSlice(ips), 'may only hold up to 2 values'))
  if (invalidIPs) return errs
  if (ips.length > 1 && isIPv6(ips[0]) === isIPv6(ips[1])) errs.push(fe.invalid(ipsPath, goStringSlice(ips), 'may specify no more than one IP for each IP family'))
  if (!isHeadless(spec) && ips.length > 0 && families.length > 0) {
    ips.forEach((ip, i) => {
      if (i > families.length - 1) return
      if (families[i] === 'IPv4' && isIPv6(ip)) errs.push(fe.invalid(index(ipsPath, i), ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``))
      if (families[i] === 'IPv6' && !isIPv6(ip)) errs.push(fe.invalid(index(ipsPath, i), ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``))
    })
  }
  return errs
}

function externallyAccessible(spec: Json): boolean {
  return spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && arr(spec.externalIPs).length > 0)
}

function validateServiceSpec(svc: Json): FieldError[] {
  const spec = rec(svc.spec)
  const errs: FieldError[] = []
  const specPath = 'spec'
  const ports = recs(spec.ports)
  const type = str(spec.type)
  if (ports.length === 0 && !isHeadless(spec) && type !== 'ExternalName') errs.push(fe.required(child(specPath, 'ports'), ''))
  if (type === 'LoadBalancer') {
    ports.forEach((p, i) => {
      if (num(p.port) === KUBELET_PORT) errs.push(fe.invalid(index(child(specPath, 'ports'), i), KUBELET_PORT, `may not expose port ${KUBELET_PORT} externally since it is used by kubelet`))
    })
    if (isHeadless(spec)) errs.push(fe.invalid(index(child(specPath, 'clusterIPs'), 0), 'None', "may not be set to 'None' for LoadBalancer services"))
  } else if (type === 'NodePort') {
    if (isHeadless(spec)) errs.push(fe.invalid(index(child(specPath, 'clusterIPs'), 0), 'None', "may not be set to 'None' for NodePort services"))
  } else if (type === 'ExternalName') {
    if (clusterIPs(spec).length > 0) errs.push(fe.forbidden(child(specPath, 'clusterIPs'), 'may not be set for ExternalName services'))
    if (arr(spec.ipFamilies).length > 0) errs.push(fe.forbidden(child(specPath, 'ipFamilies'), 'may not be set for ExternalName services'))
    if (spec.ipFamilyPolicy != null) errs.push(fe.forbidden(child(specPath, 'ipFamilyPolicy'), 'may not be set for ExternalName services'))
    const cname = str(spec.externalName).replace(/\.$/, '')
    if (cname !== '') for (const m of isDNS1123Subdomain(cname)) errs.push(fe.invalid(child(specPath, 'externalName'), cname, m))
    else errs.push(fe.required(child(specPath, 'externalName'), ''))
  }
  const names = new Set<string>()
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, index(child(specPath, 'ports'), i))))
  if (spec.selector != null) errs.push(...validateLabels(spec.selector, child(specPath, 'selector')))
  const affinity = str(spec.sessionAffinity)
  if (affinity === '') errs.push(fe.required(child(specPath, 'sessionAffinity'), ''))
  else if (affinity !== 'ClientIP' && affinity !== 'None') errs.push(fe.notSupported(child(specPath, 'sessionAffinity'), affinity, ['ClientIP', 'None']))
  const configPath = child(specPath, 'sessionAffinityConfig')
  if (affinity === 'ClientIP') {
    const config = spec.sessionAffinityConfig
    if (!isRecord(config)) errs.push(fe.required(configPath, 'when session affinity type is ClientIP'))
    else if (!isRecord(config.clientIP)) errs.push(fe.required(child(configPath, 'clientIP'), 'when session affinity type is ClientIP'))
    else if (config.clientIP.timeoutSeconds == null) errs.push(fe.required(child(configPath, 'clientIP', 'timeoutSeconds'), 'when session affinity type is ClientIP'))
    else {
      const t = num(config.clientIP.timeoutSeconds) ?? 0
      if (t <= 0 || t > MAX_CLIENT_IP_AFFINITY_SECONDS) errs.push(fe.invalid(child(configPath, 'clientIP', 'timeoutSeconds'), t, `must be greater than 0 and less than ${MAX_CLIENT_IP_AFFINITY_SECONDS}`))
    }
  } else if (affinity === 'None' && spec.sessionAffinityConfig != null) {
    errs.push(fe.forbidden(configPath, 'must not be set when session affinity is None'))
  }
  errs.push(...validateClusterIPFields(spec))
  arr(spec.externalIPs).forEach((ip, i) => {
    const p = index(child(specPath, 'externalIPs'), i)
    const e = validateIPAddress(str(ip), p)
    errs.push(...(e.length > 0 ? e : validateNonSpecialIP(str(ip), p)))
  })
  if (type === '') errs.push(fe.required(child(specPath, 'type'), ''))
  else if (!SERVICE_TYPES.includes(type)) errs.push(fe.notSupported(child(specPath, 'type'), type, SERVICE_TYPES))
  if (type === 'ClusterIP') {
    ports.forEach((p, i) => {
      if ((num(p.nodePort) ?? 0) !== 0) errs.push(fe.forbidden(child(index(child(specPath, 'ports'), i), 'nodePort'), "may not be used when `type` is 'ClusterIP'"))
    })
  }
  const nodePorts = new Set<string>()
  ports.forEach((p, i) => {
    const np = num(p.nodePort) ?? 0
    if (np === 0) return
    const k = `${str(p.protocol)}/${np}`
    if (nodePorts.has(k)) errs.push(fe.duplicate(child(index(child(specPath, 'ports'), i), 'nodePort'), np))
    nodePorts.add(k)
  })
  const seenPorts = new Set<string>()
  ports.forEach((p, i) => {
    const k = `${str(p.protocol)}/${num(p.port) ?? 0}`
    if (seenPorts.has(k)) errs.push(fe.duplicate(index(child(specPath, 'ports'), i), servicePortKeyText(str(p.protocol), num(p.port) ?? 0)))
    seenPorts.add(k)
  })
  const ranges = arr(spec.loadBalancerSourceRanges)
  if (ranges.length > 0) {
    const rp = child(specPath, 'LoadBalancerSourceRanges')
    if (type !== 'LoadBalancer') errs.push(fe.forbidden(rp, "may only be used when `type` is 'LoadBalancer'"))
    ranges.forEach((r, i) => {
      const v = str(r).trim()
      if (parseCIDR(v) === undefined) errs.push(fe.invalid(index(rp, i), v, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'))
    })
  }
  if (spec.allocateLoadBalancerNodePorts != null && type !== 'LoadBalancer') {
    errs.push(fe.forbidden(child(specPath, 'allocateLoadBalancerNodePorts'), "may only be used when `type` is 'LoadBalancer'"))
  }
  if (type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts == null) errs.push(fe.required('allocateLoadBalancerNodePorts', ''))
  if (spec.loadBalancerClass != null) {
    if (type === 'LoadBalancer') errs.push(...validateQualifiedName(str(spec.loadBalancerClass), child(specPath, 'loadBalancerClass')))
    else errs.push(fe.forbidden(child(specPath, 'loadBalancerClass'), "may only be used when `type` is 'LoadBalancer'"))
  }
  const etp = str(spec.externalTrafficPolicy)
  if (!externallyAccessible(spec)) {
    if (etp !== '') errs.push(fe.invalid(child(specPath, 'externalTrafficPolicy'), etp, 'may only be set for externally-accessible services'))
  } else if (etp === '') errs.push(fe.required(child(specPath, 'externalTrafficPolicy'), ''))
  else if (etp !== 'Cluster' && etp !== 'Local') errs.push(fe.notSupported(child(specPath, 'externalTrafficPolicy'), etp, ['Cluster', 'Local']))
  const needsHealthCheck = type === 'LoadBalancer' && etp === 'Local'
  const hcnp = num(spec.healthCheckNodePort) ?? 0
  if (!needsHealthCheck) {
    if (hcnp !== 0) errs.push(fe.invalid(child(specPath, 'healthCheckNodePort'), hcnp, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
  } else if (hcnp !== 0) {
    for (const m of isValidPortNum(hcnp)) errs.push(fe.invalid(child(specPath, 'healthCheckNodePort'), hcnp, m))
  }
  if (spec.internalTrafficPolicy == null) {
    if (type === 'NodePort' || type === 'LoadBalancer' || type === 'ClusterIP') errs.push(fe.required(child(specPath, 'internalTrafficPolicy'), ''))
  } else if (spec.internalTrafficPolicy !== 'Cluster' && spec.internalTrafficPolicy !== 'Local') {
    errs.push(fe.notSupported(child(specPath, 'internalTrafficPolicy'), str(spec.internalTrafficPolicy), ['Cluster', 'Local']))
  }
  if (spec.trafficDistribution != null && spec.trafficDistribution !== 'PreferClose') {
    errs.push(fe.notSupported(child(specPath, 'trafficDistribution'), str(spec.trafficDistribution), ['PreferClose']))
  }
  return errs
}

export function validateService(svc: Json): FieldError[] {
  return [...validateObjectMeta(svc.metadata, true, nameIsDNS1035Label), ...validateServiceSpec(svc)]
}

function validateClusterIPsUpdate(oldSpec: Json, newSpec: Json): FieldError[] {
  if (newSpec.type === 'ExternalName' || oldSpec.type === 'ExternalName') return []
  if (isHeadless(oldSpec) && isHeadless(newSpec)) return []
  const o = clusterIPs(oldSpec)
  const n = clusterIPs(newSpec)
  const p0 = index(child('spec', 'clusterIPs'), 0)
  const errs: FieldError[] = []
  if (o.length === n.length) {
    o.forEach((ip, i) => {
      if (ip !== n[i]) errs.push(fe.invalid(index(child('spec', 'clusterIPs'), i), goStringSlice(n), 'may not change once set'))
    })
  } else if (o.length > n.length) {
    if (n.length === 0) errs.push(fe.invalid(p0, goStringSlice(newSpec.clusterIPs), 'primary clusterIP can not be unset'))
    if (o.length > 0 && n.length > 0 && n[0] !== o[0]) errs.push(fe.invalid(p0, goStringSlice(n), 'may not change once set'))
    if (n.length === 1 && newSpec.ipFamilyPolicy !== 'SingleStack') {
      errs.push(fe.invalid(child('spec', 'ipFamilyPolicy'), newSpec.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary clusterIP"))
    }
  } else if (o.length > 0 && n[0] !== o[0]) {
    errs.push(fe.invalid(p0, goStringSlice(n), 'may not change once set'))
  }
  return errs
}

function validateIPFamiliesUpdate(oldSpec: Json, newSpec: Json): FieldError[] {
  if (newSpec.type === 'ExternalName' || oldSpec.type === 'ExternalName') return []
  if (isHeadless(oldSpec) || isHeadless(newSpec)) return []
  const o = arr(oldSpec.ipFamilies).map(str)
  const n = arr(newSpec.ipFamilies).map(str)
  const p0 = index(child('spec', 'ipFamilies'), 0)
  const families = new GoText(`[]core.IPFamily{${n.map(goQuote).join(', ')}}`)
  const errs: FieldError[] = []
  if (o.length === n.length) {
    o.forEach((f, i) => {
      if (f !== n[i]) errs.push(fe.invalid(p0, families, 'may not change once set'))
    })
  } else if (o.length > n.length) {
    if (clusterIPs(newSpec).length === 0) errs.push(fe.invalid(p0, families, 'primary ipFamily can not be unset'))
    if (n.length > 0 && n[0] !== o[0]) errs.push(fe.invalid(p0, goStringSlice(newSpec.clusterIPs), 'may not change once set'))
    if (n.length === 1 && newSpec.ipFamilyPolicy !== 'SingleStack') {
      errs.push(fe.invalid(child('spec', 'ipFamilyPolicy'), newSpec.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary ipFamily"))
    }
  } else if (o.length > 0 && n.length > 0 && n[0] !== o[0]) {
    errs.push(fe.invalid(p0, goStringSlice(newSpec.clusterIPs), 'may not change once set'))
  }
  return errs
}

export function validateServiceUpdate(n: Json, o: Json): FieldError[] {
  const ns = rec(n.spec)
  const os = rec(o.spec)
  const errs = validateObjectMetaUpdate(n.metadata, o.metadata)
  errs.push(...validateClusterIPsUpdate(os, ns), ...validateIPFamiliesUpdate(os, ns))
  if (os.type === 'LoadBalancer' && ns.type === 'LoadBalancer' && (os.loadBalancerClass ?? null) !== (ns.loadBalancerClass ?? null)) {
    errs.push(fe.invalid(child('spec', 'loadBalancerClass'), ns.loadBalancerClass ?? null, 'may not change once set'))
  }
  const healthCheck = (s: Json): boolean => s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local'
  if (healthCheck(os) && healthCheck(ns) && num(ns.healthCheckNodePort) !== num(os.healthCheckNodePort)) {
    errs.push(fe.forbidden(child('spec', 'healthCheckNodePort'), FIELD_IMMUTABLE))
  }
  errs.push(...validateService(n))
  return errs
}

// ---- Endpoints

function validateEndpointAddress(addr: Json, path: string): FieldError[] {
  const ip = str(addr.ip)
  const errs = validateIPAddress(ip, child(path, 'ip'))
  if (str(addr.hostname) !== '') errs.push(...validateDNS1123Label(str(addr.hostname), child(path, 'hostname')))
  if (addr.nodeName != null) for (const m of nameIsDNSSubdomain(str(addr.nodeName), false)) errs.push(fe.invalid(child(path, 'nodeName'), str(addr.nodeName), m))
  errs.push(...validateNonSpecialIP(ip, child(path, 'ip')))
  return errs
}

function validateEndpointPort(port: Json, requireName: boolean, path: string): FieldError[] {
  const errs: FieldError[] = []
  const name = str(port.name)
  if (requireName && name === '') errs.push(fe.required(child(path, 'name'), ''))
  else if (name !== '') errs.push(...validateDNS1123Label(name, child(path, 'name')))
  const p = num(port.port) ?? 0
  for (const m of isValidPortNum(p)) errs.push(fe.invalid(child(path, 'port'), p, m))
  const protocol = str(port.protocol)
  if (protocol === '') errs.push(fe.required(child(path, 'protocol'), ''))
  else if (!SUPPORTED_PORT_PROTOCOLS.includes(protocol)) errs.push(fe.notSupported(child(path, 'protocol'), protocol, SUPPORTED_PORT_PROTOCOLS))
  if (port.appProtocol != null) errs.push(...validateQualifiedName(str(port.appProtocol), child(path, 'appProtocol')))
  return errs
}

export function validateEndpoints(obj: Json): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain)
  recs(obj.subsets).forEach((ss, i) => {
    const p = index('subsets', i)
    if (arr(ss.addresses).length === 0 && arr(ss.notReadyAddresses).length === 0) errs.push(fe.required(p, 'must specify `addresses` or `notReadyAddresses`'))
    recs(ss.addresses).forEach((a, ai) => errs.push(...validateEndpointAddress(a, index(child(p, 'addresses'), ai))))
    recs(ss.notReadyAddresses).forEach((a, ai) => errs.push(...validateEndpointAddress(a, index(child(p, 'notReadyAddresses'), ai))))
    const ports = recs(ss.ports)
    ports.forEach((port, pi) => errs.push(...validateEndpointPort(port, ports.length > 1, index(child(p, 'ports'), pi))))
  })
  return errs
}

export function validateEndpointsUpdate(n: Json, o: Json): FieldError[] {
  return [...validateObjectMetaUpdate(n.metadata, o.metadata), ...validateEndpoints(n)]
}

// ---- EndpointSlice

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6']
const MAX_ENDPOINTS = 1000
const MAX_ADDRESSES = 100
const MAX_PORTS = 20000

function validateSliceAddress(address: string, addressType: string, path: string): FieldError[] {
  if (addressType === 'IPv4') return parseIP(address)?.bytes.length === 4 && !address.includes(':') ? [] : [fe.invalid(path, address, 'must be a valid IPv4 address')]
  if (addressType === 'IPv6') return isIPv6(address) ? [] : [fe.invalid(path, address, 'must be a valid IPv6 address')]
  if (addressType === 'FQDN') {
    const name = address.replace(/\.$/, '')
    const msgs = isDNS1123Subdomain(name)
    if (msgs.length > 0) return [fe.invalid(path, name, msgs.join(','))]
    if (name.split('.').length < 2) return [fe.invalid(path, name, 'should be a domain with at least two segments separated by dots')]
    for (const labelPart of name.split('.')) {
      const lm = isDNS1123Label(labelPart)
      if (lm.length > 0) return [fe.invalid(path, labelPart, lm.join(','))]
    }
  }
  return []
}

function validateEndpointSliceBody(obj: Json): FieldError[] {
  const errs: FieldError[] = []
  const addressType = str(obj.addressType)
  if (addressType === '') errs.push(fe.required('addressType', ''))
  else if (!ADDRESS_TYPES.includes(addressType)) errs.push(fe.notSupported('addressType', addressType, ADDRESS_TYPES))
  const endpoints = recs(obj.endpoints)
  if (endpoints.length > MAX_ENDPOINTS) errs.push(fe.tooMany('endpoints', endpoints.length, MAX_ENDPOINTS))
  endpoints.forEach((ep, i) => {
    const p = index('endpoints', i)
    const ap = child(p, 'addresses')
    const addresses = arr(ep.addresses).map(str)
    if (addresses.length === 0) errs.push(fe.required(ap, 'must contain at least 1 address'))
    else if (addresses.length > MAX_ADDRESSES) errs.push(fe.tooMany(ap, addresses.length, MAX_ADDRESSES))
    addresses.forEach((a, ai) => errs.push(...validateSliceAddress(a, addressType, index(ap, ai))))
    if (ep.nodeName != null) for (const m of nameIsDNSSubdomain(str(ep.nodeName), false)) errs.push(fe.invalid(child(p, 'nodeName'), str(ep.nodeName), m))
    if (ep.hostname != null) errs.push(...validateDNS1123Label(str(ep.hostname), child(p, 'hostname')))
    if (isRecord(ep.deprecatedTopology)) errs.push(...validateLabels(ep.deprecatedTopology, child(p, 'deprecatedTopology')))
  })
  const ports = recs(obj.ports)
  if (ports.length > MAX_PORTS) errs.push(fe.tooMany('ports', ports.length, MAX_PORTS))
  const names = new Set<string>()
  ports.forEach((port, i) => {
    const p = index('ports', i)
    const name = str(port.name)
    if (name !== '') errs.push(...validateDNS1123Label(name, child(p, 'name')))
    if (names.has(name)) errs.push(fe.duplicate(child(p, 'name'), name))
    else names.add(name)
    const protocol = str(port.protocol)
    if (port.protocol == null) errs.push(fe.required(child(p, 'protocol'), ''))
    else if (!SUPPORTED_PORT_PROTOCOLS.includes(protocol)) errs.push(fe.notSupported(child(p, 'protocol'), protocol, SUPPORTED_PORT_PROTOCOLS))
    if (port.port != null) for (const m of isValidPortNum(num(port.port) ?? 0)) errs.push(fe.invalid(child(p, 'port'), num(port.port) ?? 0, m))
    if (port.appProtocol != null) errs.push(...validateQualifiedName(str(port.appProtocol), child(p, 'appProtocol')))
  })
  return errs
}

export function validateEndpointSlice(obj: Json): FieldError[] {
  return [...validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain), ...validateEndpointSliceBody(obj)]
}

export function validateEndpointSliceUpdate(n: Json, o: Json): FieldError[] {
  const errs = [...validateObjectMetaUpdate(n.metadata, o.metadata), ...validateEndpointSliceBody(n)]
  if (str(n.addressType) !== str(o.addressType)) errs.push(fe.invalid('addressType', str(n.addressType), FIELD_IMMUTABLE))
  return errs
}

