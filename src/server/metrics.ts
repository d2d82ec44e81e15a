/**
 * Prometheus metrics of one app instance, on its own prom-client registry (never the global
 * default, so two apps in one process, or a test and a server, never mix their counts).
 */
import { Counter, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Per route, the admin quantiles are over this many most recent requests. */
const WINDOW_SIZE = 1024;

/** One route: counts since start, latency quantiles over its last 1,024 requests (for `/admin/storage/stats`). */
export interface RouteLatency {
  method: string;
  route: string;
  count: number;
  errors: number;
  /** Milliseconds. */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
}

export interface ServerMetrics {
  readonly registry: Registry;
  /** `chatstore_http_request_duration_seconds{method,route,status}` */
  readonly requestDuration: Histogram<'method' | 'route' | 'status'>;
  /** `chatstore_appended_messages_total{result="created"|"duplicate"}` */
  readonly appended: Counter<'result'>;
  /** `chatstore_reads_total{operation}`: read calls served (recent, list, around, context, get, search, export). */
  readonly reads: Counter<'operation'>;
  /** `chatstore_http_errors_total{code}`: error responses by envelope code. */
  readonly errors: Counter<'code'>;
  /** `chatstore_store_operation_duration_seconds{operation,outcome}` */
  readonly storeDuration: Histogram<'operation' | 'outcome'>;
  /** Records one finished request (histogram and the rolling per-route window). */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** Times one store call and records its outcome. */
  timeStore<T>(operation: string, work: () => Promise<T>): Promise<T>;
  /** Counts and recent latency quantiles per route. */
  routeLatencies(): Promise<RouteLatency[]>;
}

export function createMetrics(registry: Registry = new Registry()): ServerMetrics {
  const requestDuration = new Histogram({
    name: 'chatstore_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const appended = new Counter({
    name: 'chatstore_appended_messages_total',
    help: 'Messages appended through the API: created, or duplicate (already stored, returned as is)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const reads = new Counter({
    name: 'chatstore_reads_total',
    help: 'Read calls served by operation',
    labelNames: ['operation'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'chatstore_http_errors_total',
    help: 'Error responses by error code',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const storeDuration = new Histogram({
    name: 'chatstore_store_operation_duration_seconds',
    help: 'Latency of store calls made by the HTTP API',
    labelNames: ['operation', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  // A ring of recent latencies per route, for the admin page: O(1) per request, sorted on demand.
  const windows = new Map<
    string,
    { method: string; route: string; count: number; errors: number; samples: Float64Array }
  >();
  return {
    registry,
    requestDuration,
    appended,
    reads,
    errors,
    storeDuration,
    observeRequest(method, route, status, seconds) {
      requestDuration.observe({ method, route, status: String(status) }, seconds);
      const id = `${method} ${route}`;
      let window = windows.get(id);
      if (window === undefined) {
        window = { method, route, count: 0, errors: 0, samples: new Float64Array(WINDOW_SIZE) };
        windows.set(id, window);
      }
      window.samples[window.count % WINDOW_SIZE] = seconds;
      window.count += 1;
      if (status >= 400) window.errors += 1;
    },
    async timeStore(operation, work) {
      const end = storeDuration.startTimer({ operation });
      try {
        const result = await work();
        end({ outcome: 'ok' });
        return result;
      } catch (error) {
        end({ outcome: 'error' });
        throw error;
      }
    },
    async routeLatencies() {
      const routes = [...windows.values()].map(({ method, route, count, errors, samples }) => {
        const recent = samples.slice(0, Math.min(count, WINDOW_SIZE)).sort();
        const quantile = (q: number) => {
          const seconds = recent[Math.min(recent.length - 1, Math.floor(q * recent.length))] ?? 0;
          return Math.round(seconds * 1e6) / 1e3;
        };
        return { method, route, count, errors, p50Ms: quantile(0.5), p90Ms: quantile(0.9), p99Ms: quantile(0.99) };
      });
      return routes.sort((a, b) => a.route.localeCompare(b.route) || a.method.localeCompare(b.method));
    },
  };
}
