// The parts of the Responses API wire format (POST /v1/responses) this adapter reads or writes.
// Upstreams add fields freely (xAI's cost ticks, Copilot's usage block), so every shape is open.

export interface ResponsesUsage {
  /** Includes cached tokens. */
  input_tokens?: number;
  input_tokens_details?: { cached_tokens?: number } | null;
  /** Includes reasoning tokens. */
  output_tokens?: number;
  output_tokens_details?: { reasoning_tokens?: number } | null;
  total_tokens?: number;
  [extra: string]: unknown;
}

export interface ResponsesContentPart {
  type: string;
  text?: string;
  refusal?: string;
  annotations?: unknown[];
  [extra: string]: unknown;
}

export interface ResponsesOutputItem {
  type: string;
  id?: string;
  /** message */
  role?: string;
  content?: ResponsesContentPart[];
  /** function_call */
  call_id?: string;
  name?: string;
  arguments?: string;
  /** reasoning */
  summary?: Array<{ type: string; text?: string }>;
  [extra: string]: unknown;
}

export interface ResponsesFailure {
  code?: string | null;
  message?: string;
  type?: string;
  param?: string | null;
}

export interface ResponsesResponse {
  id?: string;
  object?: string;
  created_at?: number;
  status?: string;
  error?: ResponsesFailure | null;
  incomplete_details?: { reason?: string } | null;
  model?: string;
  output?: ResponsesOutputItem[];
  /** The tools the request declared, echoed back; tells a real `parallel` tool from the wrapper. */
  tools?: Array<{ type?: string; name?: string }>;
  usage?: ResponsesUsage | null;
  service_tier?: string | null;
  [extra: string]: unknown;
}
