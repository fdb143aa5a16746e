import { describe, expect, it } from 'vitest';
import { inferDeployment, deploymentConfigSchema, routeHint, type DeploymentHints } from './deployment.js';

const config = deploymentConfigSchema.parse({});
const h = (o: Partial<DeploymentHints>): DeploymentHints => ({ responseHeaders: {}, version: null, track: null, service: null, upstream: null, route: null, host: null, ...o });

describe('inferDeployment', () => {
  it('reads version and track from the response headers first', () => {
    expect(inferDeployment(h({ responseHeaders: { 'x-deployment-version': '1.4.2', 'x-deployment-track': 'Canary' }, service: 'orders-stable' }), config))
      .toEqual({ service: 'orders', version: '1.4.2', track: 'canary' });
  });

  it('reads service and version from an Istio subset cluster name', () => {
    expect(inferDeployment(h({ upstream: 'outbound|9080|v2|reviews.default.svc.cluster.local' }), config))
      .toEqual({ service: 'reviews', version: 'v2', track: null });
  });

  it('reads the track from an Istio subset named after it', () => {
    expect(inferDeployment(h({ upstream: 'outbound|8080|canary|orders.shop.svc.cluster.local' }), config))
      .toEqual({ service: 'orders', version: null, track: 'canary' });
  });

  it('reads the track from -blue / -green suffixes of upstream URLs', () => {
    expect(inferDeployment(h({ upstream: 'http://payments-green:8080' }), config)).toEqual({ service: 'payments', version: null, track: 'green' });
    expect(inferDeployment(h({ service: 'payments-blue' }), config)).toEqual({ service: 'payments', version: null, track: 'blue' });
  });

  it('reads a version suffix from the service name', () => {
    expect(inferDeployment(h({ service: 'catalog-v3' }), config)).toEqual({ service: 'catalog', version: 'v3', track: null });
  });

  it('honours custom header names', () => {
    const custom = deploymentConfigSchema.parse({ versionHeader: 'x-app-build', trackHeader: 'x-release' });
    expect(inferDeployment(h({ responseHeaders: { 'x-app-build': 'b77', 'x-release': 'green' }, host: 'api.example.com' }), custom))
      .toEqual({ service: 'api.example.com', version: 'b77', track: 'green' });
  });
});

describe('routeHint', () => {
  // The cheap checks in front of the regex must never turn away a route the regex accepts.
  it('keeps exactly the routes that end in a separator and a track name', () => {
    const routes = ['orders-route', 'orders-canary', 'orders_Stable', 'x.blue', 'a-green', '-green', 'green', 'orders-canary-v2', 'blue', 'a.BLUE', 'oops-lue', 'x-stabe', 'pay-payments-green', 'a\nb-blue', 'reviews-stable'];
    for (const r of routes) expect(routeHint(r)).toBe(/^(.+?)[-_.](stable|canary|blue|green)$/i.test(r) ? r : null);
  });
});
