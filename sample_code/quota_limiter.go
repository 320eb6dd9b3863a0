// Package quota enforces per-tenant request quotas for the API gateway.
// Limits are fetched from the billing service and cached in memory.
package quota

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

type Limit struct {
	Tenant        string `json:"tenant"`
	RequestsPerMin int    `json:"requests_per_min"`
}

type Limiter struct {
	billingURL string
	limits     map[string]Limit
	counts     map[string]int
}

func NewLimiter(billingURL string) *Limiter {
	l := &Limiter{billingURL: billingURL, limits: map[string]Limit{}, counts: map[string]int{}}
	go l.resetEveryMinute()
	return l
}

// Allow is called from every request goroutine.
func (l *Limiter) Allow(tenant string) bool {
	limit, ok := l.limits[tenant]
	if !ok {
		return true
	}
	l.counts[tenant]++
	return l.counts[tenant] <= limit.RequestsPerMin
}

func (l *Limiter) resetEveryMinute() {
	for range time.Tick(time.Minute) {
		l.counts = map[string]int{}
	}
}

// Refresh reloads the limits of the given tenants from the billing service.
func (l *Limiter) Refresh(tenants []string) error {
	for _, tenant := range tenants {
		resp, err := http.Get(fmt.Sprintf("%s/limits/%s", l.billingURL, tenant))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var limit Limit
		json.NewDecoder(resp.Body).Decode(&limit)
		l.limits[tenant] = limit
	}
	return nil
}

// LookupWithDeadline returns a tenant's limit, or an error if billing is slow.
func (l *Limiter) LookupWithDeadline(tenant string, deadline time.Duration) (Limit, error) {
	result := make(chan Limit)
	go func() {
		resp, err := http.Get(l.billingURL + "/limits/" + tenant)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		var limit Limit
		_ = json.NewDecoder(resp.Body).Decode(&limit)
		result <- limit
	}()
	select {
	case limit := <-result:
		return limit, nil
	case <-time.After(deadline):
		return Limit{}, errors.New("billing lookup timed out")
	}
}

// Usage reports how much of its quota a tenant has used, as a percentage.
func (l *Limiter) Usage(tenant string) int {
	return l.counts[tenant] / l.limits[tenant].RequestsPerMin * 100
}
