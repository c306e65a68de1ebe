// The one Kubernetes version raftplane speaks: the API server reports it at
// /version and in OpenAPI, the kubelet and kube-proxy in each Node's nodeInfo.
export const KUBE_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-raftplane' } as const
