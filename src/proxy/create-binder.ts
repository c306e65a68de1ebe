// Picks the address binder for `raftplane node --proxy-address-mode`: `loopback`
// (the default: works anywhere, no privileges), `dummy` (fails when the host cannot
// create the interface), or `auto` (dummy when it can be had, else loopback).
import type { Logger } from '../client/index.js'
import { errorMessage, silentLogger } from '../client/index.js'
import { type AddressBinder, LoopbackBinder } from './address-binder.js'
import { DummyBinder } from './dummy-binder.js'

export interface CreateBinderOptions {
  mode: 'loopback' | 'dummy' | 'auto'
  /** The apiserver's --service-cluster-ip-range (loopback mapping). Default 10.96.0.0/12. */
  serviceCidr?: string
  /** Dummy interface name. Default raftplane0; give each node its own when several share a host. */
  device?: string
  logger?: Logger
}

export async function createAddressBinder(opts: CreateBinderOptions): Promise<AddressBinder> {
  const loopback = (): AddressBinder => new LoopbackBinder(opts.serviceCidr === undefined ? {} : { serviceCidr: opts.serviceCidr })
  if (opts.mode === 'loopback') return loopback()
  const dummy = new DummyBinder(opts.device === undefined ? {} : { device: opts.device })
  try {
    await dummy.open()
    return dummy
  } catch (err) {
    if (opts.mode === 'dummy') throw err
    ;(opts.logger ?? silentLogger).info({ err: errorMessage(err) }, 'no dummy interface for service addresses: serving them on 127/8')
    return loopback()
  }
}
