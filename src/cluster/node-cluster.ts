// A trading node's place in a cluster (node config `cluster`): its risk engine shares one view with the other
// nodes through NATS JetStream (shared-risk.ts), its exposure is republished soon after every order event, and
// the cluster kill switch runs this node's own kill switch. Loaded only when the config names a cluster.

import type { Kernel } from '../kernel/kernel.ts';
import type { InstrumentRegistry } from '../model/instrument.ts';
import { openCluster, parseClusterUrls } from './nats.ts';
import { SharedRisk } from './shared-risk.ts';

export interface NodeClusterConfig {
  /** NATS servers, nats://host:4222 (comma-separated for a cluster). */
  readonly url: string;
  /** This node's id, unique in the cluster. */
  readonly node: string;
  readonly maxAgeMs: number;
  readonly onStale: 'limit' | 'halt';
  readonly publishMs: number;
  readonly replicas: number;
}

export interface NodeCluster {
  readonly shared: SharedRisk;
  close(): Promise<void>;
}

export async function joinCluster(
  kernel: Kernel,
  instruments: InstrumentRegistry,
  cfg: NodeClusterConfig,
  print: (line: string) => void,
): Promise<NodeCluster> {
  const urls = parseClusterUrls(cfg.url, "config 'cluster.url'");
  const c = await openCluster(urls, `bot4-node ${cfg.node}`);
  try {
    const shared = await SharedRisk.start({
      cluster: c,
      node: cfg.node,
      risk: kernel.risk,
      instruments,
      maxAgeMs: cfg.maxAgeMs,
      onStale: cfg.onStale,
      publishMs: cfg.publishMs,
      replicas: cfg.replicas,
      log: print,
      onKill: (o) => {
        const r = kernel.riskMonitor.killSwitch.kill({
          reason: `cluster kill switch by ${o.by}: ${o.reason}`,
        });
        print(
          `kill switch: ${r.cancelled} order(s) cancelled, ${r.flatten.length} flatten order(s), state ${r.state}`,
        );
      },
    });
    // After the portfolio and the risk engine have booked the event: only a flag is set here.
    kernel.bus.subscribe(kernel.engine.orderEvents, () => shared.markDirty(), 300);
    print(
      `cluster: node ${cfg.node} shares risk through ${urls.join(',')} (peers older than ${cfg.maxAgeMs} ms: ${cfg.onStale})`,
    );
    return {
      shared,
      close: async () => {
        await shared.close();
        await c.close();
      },
    };
  } catch (e) {
    await c.close();
    throw e;
  }
}
