// Package metric registers Muster's Prometheus collectors: a service
// rebuilt on the same registry (a restart in one process, several
// handlers sharing a registry) gets the collectors registered first, and a
// resource's series are dropped together when the resource is deleted.
package metric
