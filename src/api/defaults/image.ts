// Container image references as the kubelet's parsers.ParseImageName reads them
// (docker/distribution's reference grammar), for defaulting imagePullPolicy.

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*'
const TAG = '[\\w][\\w.-]{0,127}'
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}'

const referenceRe = new RegExp(`^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`)
const NAME_MAX = 255

export interface ImageRef {
  repository: string
  /** The tag, "latest" when neither tag nor digest is given, "" when only a digest is. */
  tag: string
  digest: string
}

/** The parts of an image reference, or undefined when it does not parse. */
export function parseImage(image: string): ImageRef | undefined {
  const m = referenceRe.exec(image)
  if (m === null || m[1].length > NAME_MAX) return undefined
  const repository = m[1]
  const tag = m[2] ?? ''
  const digest = m[3] ?? ''
  return { repository, tag: tag === '' && digest === '' ? 'latest' : tag, digest }
}

/** SetDefaults_Container's choice: Always for `:latest` (or no tag), else IfNotPresent. */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  return parseImage(image)?.tag === 'latest' ? 'Always' : 'IfNotPresent'
}
