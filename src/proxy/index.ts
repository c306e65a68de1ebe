// kube-proxy (userspace mode) and the node's cluster DNS: what `raftplane node` starts
// next to the kubelet. See ./kube-proxy.ts for the wiring.
export { KubeProxy, type KubeProxyOptions, type ClusterDnsOptions, DEFAULT_CLUSTER_DNS_IP, DEFAULT_CLUSTER_DOMAIN } from './kube-proxy.js'
export { type AddressBinder, type AddressMode, LoopbackBinder, DEFAULT_SERVICE_CIDR } from './address-binder.js'
export { DummyBinder, DEFAULT_DUMMY_DEVICE } from './dummy-binder.js'
export { createAddressBinder, type CreateBinderOptions } from './create-binder.js'
export { loopbackAddressFor } from './ipv4.js'
export { hostNameservers } from './dns/forwarder.js'
export { ServiceStore } from './service-store.js'
export { MetricsServer, DEFAULT_METRICS_BIND_ADDRESS, parseBindAddress } from './metrics-server.js'
