// The JSON the storeplane API speaks (crates/api/src/dto.rs).

export type StoreStatus = "pending" | "provisioning" | "ready" | "failed" | "deleting" | "deleted";
export type Engine = "woocommerce" | "medusa";
export type Plan = "small" | "medium" | "large";
export type EventKind =
  | "created"
  | "status_changed"
  | "step"
  | "object_applied"
  | "drift_restored"
  | "retry"
  | "failed"
  | "credentials_revealed"
  | "teardown";

export interface Store {
  id: string;
  name: string;
  engine: Engine;
  plan: Plan;
  status: StoreStatus;
  status_reason: string | null;
  owner_id: string;
  namespace: string;
  url: string;
  admin_url: string;
  created_at: string;
  updated_at: string;
}

export interface StoreEvent {
  seq: number;
  store_id: string;
  at: string;
  kind: EventKind;
  message: string;
  detail: unknown;
  actor: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Credentials {
  username: string;
  password: string;
  admin_url: string;
}

export interface Session {
  user: { id: string; name: string; role: "admin" | "member" };
  auth: "token" | "session" | "proxy" | "none";
  csrf_token: string | null;
}

export interface Cluster {
  name: string;
  simulated: boolean;
}

export interface PlanSize {
  plan: Plan;
  cpu: string;
  memory: string;
  storage: string;
}

export interface CreateStoreRequest {
  name: string;
  engine: Engine;
  plan: Plan;
}

export interface EngineAvailability {
  engine: Engine;
  available: boolean;
}
