// ACL semantics shared by the controller (CreateAcls / DeleteAcls as Kafka's AclControlManager) and the
// broker's authorizer: the codes of Kafka's AclOperation / ResourceType / PatternType / AclPermissionType,
// binding validation and filter matching (AclBindingFilter.matches).

import type { StandardAcl } from './metadata/image.ts';

export const AclOperation = {
  UNKNOWN: 0, ANY: 1, ALL: 2, READ: 3, WRITE: 4, CREATE: 5, DELETE: 6, ALTER: 7, DESCRIBE: 8, CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10, ALTER_CONFIGS: 11, IDEMPOTENT_WRITE: 12, CREATE_TOKENS: 13, DESCRIBE_TOKENS: 14, TWO_PHASE_COMMIT: 15,
} as const;
export const ResourceType = { UNKNOWN: 0, ANY: 1, TOPIC: 2, GROUP: 3, CLUSTER: 4, TRANSACTIONAL_ID: 5, DELEGATION_TOKEN: 6, USER: 7 } as const;
export const PatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;
export const Permission = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;

/** ResourcePattern.WILDCARD_RESOURCE and the one name of the CLUSTER resource. */
export const WILDCARD_RESOURCE = '*';
export const CLUSTER_NAME = 'kafka-cluster';
export const WILDCARD_PRINCIPAL = 'User:*';
export const WILDCARD_HOST = '*';

/** An ACL without its id (what CreateAcls carries). */
export type AclBinding = Omit<StandardAcl, 'id'>;

/** AclBindingFilter: null strings and ANY codes match everything; pattern MATCH as a resource lookup. */
export interface AclFilter {
  readonly resourceType: number;
  readonly resourceName: string | null;
  readonly patternType: number;
  readonly principal: string | null;
  readonly host: string | null;
  readonly operation: number;
  readonly permissionType: number;
}

const known = (codes: Record<string, number>, v: number): boolean => Object.values(codes).includes(v);

/** AclControlManager.validateNewAcl (+ AclApis' CLUSTER name check): the reason a binding is refused, or null. */
export function invalidBinding(b: AclBinding): string | null {
  if (b.resourceType <= ResourceType.ANY || !known(ResourceType, b.resourceType)) return `Invalid resourceType ${b.resourceType}`;
  if (b.patternType !== PatternType.LITERAL && b.patternType !== PatternType.PREFIXED) return `Invalid patternType ${b.patternType}`;
  if (b.operation <= AclOperation.ANY || !known(AclOperation, b.operation)) return `Invalid operation ${b.operation}`;
  if (b.permissionType !== Permission.ALLOW && b.permissionType !== Permission.DENY) return `Invalid permissionType ${b.permissionType}`;
  if (b.resourceName === '') return 'Resource name should not be empty';
  if (b.resourceType === ResourceType.CLUSTER && b.resourceName !== CLUSTER_NAME) return `The only valid name for the CLUSTER resource is ${CLUSTER_NAME}`;
  if (!b.principal.includes(':')) return `Could not parse principal from \`${b.principal}\` (no colon is present separating the principal type from the principal name)`;
  return null;
}

/** The reason a filter is refused (a code Kafka cannot read back), or null. */
export function invalidFilter(f: AclFilter): string | null {
  if (f.resourceType === ResourceType.UNKNOWN || !known(ResourceType, f.resourceType)) return 'Resource type filter must not be UNKNOWN';
  if (f.patternType === PatternType.UNKNOWN || !known(PatternType, f.patternType)) return 'Pattern type filter must not be UNKNOWN';
  if (f.operation === AclOperation.UNKNOWN || !known(AclOperation, f.operation)) return 'Operation filter must not be UNKNOWN';
  if (f.permissionType === Permission.UNKNOWN || !known(Permission, f.permissionType)) return 'Permission type filter must not be UNKNOWN';
  return null;
}

/** AclBindingFilter.matches(binding). */
export function filterMatches(f: AclFilter, a: AclBinding): boolean {
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== a.resourceType) return false;
  if (f.patternType !== PatternType.ANY && f.patternType !== PatternType.MATCH && f.patternType !== a.patternType) return false;
  if (f.resourceName !== null) {
    if (f.patternType === PatternType.ANY || f.patternType === a.patternType) {
      if (f.resourceName !== a.resourceName) return false;
    } else if (a.patternType === PatternType.LITERAL) {
      if (f.resourceName !== a.resourceName && a.resourceName !== WILDCARD_RESOURCE) return false;
    } else if (!f.resourceName.startsWith(a.resourceName)) return false;
  }
  if (f.principal !== null && f.principal !== a.principal) return false;
  if (f.host !== null && f.host !== a.host) return false;
  if (f.operation !== AclOperation.ANY && f.operation !== a.operation) return false;
  if (f.permissionType !== Permission.ANY && f.permissionType !== a.permissionType) return false;
  return true;
}

export function sameBinding(a: AclBinding, b: AclBinding): boolean {
  return a.resourceType === b.resourceType && a.resourceName === b.resourceName && a.patternType === b.patternType &&
    a.principal === b.principal && a.host === b.host && a.operation === b.operation && a.permissionType === b.permissionType;
}
