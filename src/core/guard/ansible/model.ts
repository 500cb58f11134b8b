/**
 * The inventory being built: hosts and groups as Ansible's InventoryData holds them (insertion
 * order kept, `all` and `ungrouped` always present), each with its own variables and where each
 * was set. Parsers (./ini.ts, ./yamlInventory.ts, host lists) fill it; ./inventory.ts finishes it.
 */

/** A place in a file: absolute path and 1-based line (0 = the file as a whole). */
export interface Place {
  file: string;
  line: number;
}

export interface HostRecord {
  name: string;
  definedAt: Place;
  /** Variables set on the host in inventory sources (not host_vars files). */
  vars: Record<string, unknown>;
  sources: Record<string, Place>;
  /** Groups the host was put in directly. */
  groups: Set<string>;
}

export interface GroupRecord {
  name: string;
  definedAt?: Place;
  /** Direct members, in the order they were added. */
  hosts: string[];
  hostSet: Set<string>;
  children: string[];
  parents: string[];
  vars: Record<string, unknown>;
  sources: Record<string, Place>;
  priority: number;
}

export class InventoryError extends Error {}

export class InventoryBuilder {
  readonly hosts = new Map<string, HostRecord>();
  readonly groups = new Map<string, GroupRecord>();

  constructor() {
    this.addGroup('all');
    this.addGroup('ungrouped');
    this.addChild('all', 'ungrouped');
  }

  addGroup(name: string, at?: Place): GroupRecord {
    let g = this.groups.get(name);
    if (!g) {
      g = {
        name,
        definedAt: at,
        hosts: [],
        hostSet: new Set(),
        children: [],
        parents: [],
        vars: {},
        sources: {},
        priority: 1,
      };
      this.groups.set(name, g);
    } else if (!g.definedAt && at) g.definedAt = at;
    return g;
  }

  /** `add_host`: the first definition wins for `definedAt` (Ansible's inventory_file). */
  addHost(name: string, group: string | undefined, at: Place, port?: number): HostRecord {
    if (!name) throw new InventoryError('Invalid empty host name provided');
    let h = this.hosts.get(name);
    if (!h) {
      h = { name, definedAt: at, vars: {}, sources: {}, groups: new Set() };
      this.hosts.set(name, h);
    }
    if (port !== undefined) this.setHostVar(name, 'ansible_port', port, at);
    if (group !== undefined) {
      const g = this.groups.get(group);
      if (!g) throw new InventoryError(`Could not find group ${group} in inventory`);
      if (!g.hostSet.has(name)) {
        g.hostSet.add(name);
        g.hosts.push(name);
        h.groups.add(group);
      }
    }
    return h;
  }

  setHostVar(host: string, key: string, value: unknown, at: Place): void {
    const h = this.hosts.get(host);
    if (!h) throw new InventoryError(`Could not identify group or host named ${host}`);
    h.vars[key] = value;
    h.sources[key] = at;
  }

  setGroupVar(group: string, key: string, value: unknown, at: Place): void {
    const g = this.groups.get(group);
    if (!g) throw new InventoryError(`Could not identify group or host named ${group}`);
    if (key === 'ansible_group_priority') {
      const p = Number.parseInt(String(value), 10);
      if (Number.isFinite(p)) g.priority = p;
      return;
    }
    g.vars[key] = value;
    g.sources[key] = at;
  }

  /** `add_child` for a group: refuses a group in itself and loops, as Ansible does. */
  addChild(parent: string, child: string): void {
    const p = this.groups.get(parent);
    const c = this.groups.get(child);
    if (!p) throw new InventoryError(`${parent} is not a known group`);
    if (!c) throw new InventoryError(`${child} is not a known host nor group`);
    if (p === c) throw new InventoryError(`can't add group ${child} to itself`);
    if (p.children.includes(child)) return;
    if (this.ancestors(parent).has(child)) {
      throw new InventoryError(`Adding group '${child}' as child to '${parent}' creates a recursive dependency loop.`);
    }
    p.children.push(child);
    if (!c.parents.includes(parent)) c.parents.push(parent);
  }

  ancestors(group: string): Set<string> {
    const seen = new Set<string>();
    const todo = [...(this.groups.get(group)?.parents ?? [])];
    while (todo.length) {
      const g = todo.pop() as string;
      if (seen.has(g)) continue;
      seen.add(g);
      todo.push(...(this.groups.get(g)?.parents ?? []));
    }
    return seen;
  }

  /** `reconcile_inventory`: top-level groups under `all`; hosts in no group in `ungrouped`, and only there. */
  reconcile(): void {
    for (const g of this.groups.values()) {
      if (g.name !== 'all' && g.parents.length === 0) this.addChild('all', g.name);
    }
    const ungrouped = this.groups.get('ungrouped') as GroupRecord;
    let removed = false;
    for (const h of this.hosts.values()) {
      if (h.groups.has('ungrouped')) {
        if ([...h.groups].some((n) => n !== 'all' && n !== 'ungrouped')) {
          h.groups.delete('ungrouped');
          ungrouped.hostSet.delete(h.name);
          removed = true;
        }
      } else if (h.groups.size === 0 || (h.groups.size === 1 && h.groups.has('all'))) {
        this.addHost(h.name, 'ungrouped', h.definedAt);
      }
    }
    if (removed) ungrouped.hosts = ungrouped.hosts.filter((n) => ungrouped.hostSet.has(n));
  }
}
