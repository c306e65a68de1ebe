// Errors of the MVCC index, named and worded as etcd's, so logs and reports match.

/** The key has no live revision where one was required (etcd's ErrRevisionNotFound). */
export class RevisionNotFoundError extends Error {
  constructor() {
    super('mvcc: revision not found')
    this.name = 'RevisionNotFoundError'
  }
}
