// The ACL authorizer with the semantics of Kafka's StandardAuthorizer (StandardAuthorizerData): ACLs come from
// the metadata image (committed AccessControlEntryRecords), indexed per resource type the first time a check
// sees a new image. Handlers call the helpers at the bottom with their RequestContext; without an authorizer
// (`authorizer.class.name` empty, the default) each is one null check and allows everything.

import type { StandardAcl } from '../../controller/metadata/image.ts';
import { AclOperation as Op, PatternType, Permission, WILDCARD_HOST, WILDCARD_PRINCIPAL, WILDCARD_RESOURCE } from '../../controller/acls.ts';

export { AclOperation, ResourceType, CLUSTER_NAME } from '../../controller/acls.ts';

export const STANDARD_AUTHORIZER = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer';

interface TypeIndex {
  /** Literal ACLs by resource name ("*" included). */
  readonly literal: Map<string, StandardAcl[]>;
  readonly prefixed: StandardAcl[];
}

// Operations an ALLOW of another operation implies (StandardAuthorizerData.IMPLIES_DESCRIBE / _CONFIGS).
const IMPLIES_DESCRIBE = new Set<number>([Op.DESCRIBE, Op.READ, Op.WRITE, Op.DELETE, Op.ALTER]);
const IMPLIES_DESCRIBE_CONFIGS = new Set<number>([Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS]);

export interface AuthorizerOptions {
  /** `super.users`: principals allowed everything (`User:a;User:b`). */
  readonly superUsers: readonly string[];
  /** `allow.everyone.if.no.acl.found` (default false). */
  readonly allowEveryoneIfNoAcl: boolean;
  /** The committed ACLs (the image's map; a new map = a new index). */
  readonly acls: () => ReadonlyMap<string, StandardAcl>;
}

export class Authorizer {
  readonly #superUsers: Set<string>;
  readonly #allowIfNone: boolean;
  readonly #acls: () => ReadonlyMap<string, StandardAcl>;
  #source: ReadonlyMap<string, StandardAcl> | null = null;
  #index = new Map<number, TypeIndex>();

  constructor(o: AuthorizerOptions) {
    this.#superUsers = new Set(o.superUsers);
    this.#allowIfNone = o.allowEveryoneIfNoAcl;
    this.#acls = o.acls;
  }

  #typeIndex(resourceType: number): TypeIndex | undefined {
    const acls = this.#acls();
    if (acls !== this.#source) {
      const index = new Map<number, TypeIndex>();
      for (const a of acls.values()) {
        let t = index.get(a.resourceType);
        if (!t) index.set(a.resourceType, t = { literal: new Map(), prefixed: [] });
        if (a.patternType === PatternType.PREFIXED) t.prefixed.push(a);
        else {
          const l = t.literal.get(a.resourceName);
          if (l) l.push(a); else t.literal.set(a.resourceName, [a]);
        }
      }
      this.#index = index;
      this.#source = acls;
    }
    return this.#index.get(resourceType);
  }

  /** StandardAuthorizer.authorize for one action: super users first, then deny beats allow, then the no-ACL rule. */
  authorize(principal: string, host: string, operation: number, resourceType: number, name: string): boolean {
    if (this.#superUsers.has(principal)) return true;
    const t = this.#typeIndex(resourceType);
    if (!t) return this.#allowIfNone;
    let found = false;
    let allowed = false;
    const check = (acls: readonly StandardAcl[] | undefined): boolean => {
      if (!acls) return false;
      for (const a of acls) {
        found = true;
        const r = result(a, principal, host, operation);
        if (r === Permission.DENY) return true;
        if (r === Permission.ALLOW) allowed = true;
      }
      return false;
    };
    if (check(t.literal.get(name))) return false;
    if (name !== WILDCARD_RESOURCE && check(t.literal.get(WILDCARD_RESOURCE))) return false;
    for (const a of t.prefixed) {
      if (!name.startsWith(a.resourceName)) continue;
      if (check([a])) return false;
    }
    if (allowed) return true;
    return found ? false : this.#allowIfNone;
  }

  /**
   * Kafka's Authorizer.authorizeByResourceType: may the principal perform `operation` on some resource of this
   * type (IDEMPOTENT_WRITE via any TOPIC WRITE)? Super users and the no-ACL rule through a literal
   * "hardcode" check first, as Kafka does; then a wildcard DENY refuses, a wildcard ALLOW grants, and any
   * ALLOW pattern not covered by a DENY (literal equal, or a DENY prefix of it) grants.
   */
  authorizeByResourceType(principal: string, host: string, operation: number, resourceType: number): boolean {
    if (this.authorize(principal, host, operation, resourceType, 'hardcode')) return true;
    const t = this.#typeIndex(resourceType);
    if (!t) return false;
    const denyLiteral = new Set<string>(), denyPrefix: string[] = [], allowLiteral: string[] = [], allowPrefix: string[] = [];
    const consider = (a: StandardAcl): void => {
      if (a.principal !== principal && a.principal !== WILDCARD_PRINCIPAL) return;
      if (a.host !== host && a.host !== WILDCARD_HOST) return;
      if (a.operation !== operation && a.operation !== Op.ALL) return;
      const prefixed = a.patternType === PatternType.PREFIXED;
      if (a.permissionType === Permission.DENY) prefixed ? denyPrefix.push(a.resourceName) : denyLiteral.add(a.resourceName);
      else prefixed ? allowPrefix.push(a.resourceName) : allowLiteral.push(a.resourceName);
    };
    for (const l of t.literal.values()) l.forEach(consider);
    t.prefixed.forEach(consider);
    if (denyLiteral.has(WILDCARD_RESOURCE)) return false;
    if (allowLiteral.includes(WILDCARD_RESOURCE)) return true;
    const deniedByPrefix = (n: string): boolean => denyPrefix.some((d) => n.startsWith(d));
    if (allowPrefix.some((p) => !deniedByPrefix(p))) return true;
    return allowLiteral.some((l) => !denyLiteral.has(l) && !deniedByPrefix(l));
  }
}

/** StandardAuthorizerData.findResult: DENY / ALLOW when the ACL applies to this principal, host and operation, else 0. */
function result(a: StandardAcl, principal: string, host: string, operation: number): number {
  if (a.principal !== principal && a.principal !== WILDCARD_PRINCIPAL) return 0;
  if (a.host !== host && a.host !== WILDCARD_HOST) return 0;
  if (a.operation !== Op.ALL) {
    if (a.permissionType === Permission.ALLOW) {
      if (operation === Op.DESCRIBE) { if (!IMPLIES_DESCRIBE.has(a.operation)) return 0; }
      else if (operation === Op.DESCRIBE_CONFIGS) { if (!IMPLIES_DESCRIBE_CONFIGS.has(a.operation)) return 0; }
      else if (operation !== a.operation) return 0;
    } else if (operation !== a.operation) return 0;
  }
  return a.permissionType;
}

/** What the helpers read of a handler's RequestContext (structural: no import of handler.ts, no cycle). */
export interface AuthContext {
  readonly principal: string;
  /** "/" + IP, as RequestContext.clientHost. */
  readonly clientHost: string;
  readonly broker: { readonly authorizer: Authorizer | null };
}

/** The client's address as ACL hosts name it ("/10.0.0.1" → "10.0.0.1"). */
function hostOf(ctx: AuthContext): string {
  const h = ctx.clientHost;
  return h.startsWith('/') ? h.slice(1) : h;
}

/** May this request's principal perform `operation` on the resource? (Always, without an authorizer.) */
export function authorize(ctx: AuthContext, operation: number, resourceType: number, name: string): boolean {
  const a = ctx.broker.authorizer;
  return a === null || a.authorize(ctx.principal, hostOf(ctx), operation, resourceType, name);
}

/** authorizeByResourceType for this request (always, without an authorizer). */
export function authorizeByResourceType(ctx: AuthContext, operation: number, resourceType: number): boolean {
  const a = ctx.broker.authorizer;
  return a === null || a.authorizeByResourceType(ctx.principal, hostOf(ctx), operation, resourceType);
}

// Operations reported in authorized-operations fields (Kafka's AclEntry.supportedOperations per type).
const SUPPORTED: Record<number, readonly number[]> = {
  2: [Op.READ, Op.WRITE, Op.CREATE, Op.DESCRIBE, Op.DELETE, Op.ALTER, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS],
  3: [Op.READ, Op.DESCRIBE, Op.DELETE, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS],
  4: [Op.CREATE, Op.CLUSTER_ACTION, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS, Op.IDEMPOTENT_WRITE, Op.ALTER, Op.DESCRIBE],
  5: [Op.DESCRIBE, Op.WRITE, Op.TWO_PHASE_COMMIT],
};

/** The authorized-operations bit field Kafka computes (bit n = AclOperation n) for one resource. */
export function authorizedOperations(ctx: AuthContext, resourceType: number, name: string): number {
  let bits = 0;
  for (const op of SUPPORTED[resourceType] ?? []) if (authorize(ctx, op, resourceType, name)) bits |= 1 << op;
  return bits;
}
