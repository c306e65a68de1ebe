// client-go's leader election metric, under its upstream name. Several electors (the
// scheduler's and the controller-manager's) share one registry, so the gauge is made
// once per registry and told apart by the `name` label.
import { Gauge, type Registry } from 'prom-client'

const NAME = 'leader_election_master_status'

export function masterStatusGauge(registry: Registry): Gauge<'name'> {
  const existing = registry.getSingleMetric(NAME)
  if (existing !== undefined) return existing as Gauge<'name'>
  return new Gauge({
    name: NAME,
    help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease. Please make sure to group by name.",
    labelNames: ['name'],
    registers: [registry],
  })
}
