// Generated from the baton API's OpenAPI document by `npm run api:generate`; do not edit.

export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness */
        get: operations["liveness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness (Redis reachable) */
        get: operations["readiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List runs
         * @description Newest first. Clients see their own runs; operators and admins see all.
         */
        get: operations["listRuns"];
        put?: never;
        /**
         * Create a run
         * @description Accepts a run and queues it (202). With an `Idempotency-Key` header, repeating the same request returns the first run (200) instead of creating another. `options.model` may choose only models the operator allows (400 `MODEL_NOT_ALLOWED`); over a limit of its API key (BATON_TENANT_LIMITS) the run is refused with 429 and `Retry-After`.
         */
        post: operations["createRun"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/runs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a run
         * @description The run record: status, output, usage, per-step timing and tokens, trace id.
         */
        get: operations["getRun"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/runs/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel a run
         * @description A queued run is cancelled at once; a running one is aborted by its worker (its in-flight model call included) within about a second. 409 when the run has already finished.
         */
        post: operations["cancelRun"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/runs/{id}/input": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Answer a pending request of a waiting run
         * @description Approves or rejects a pending approval (`decision`, optionally edited `arguments` and a `comment`), or answers a pending question (`answer`). The answer is journaled once, with the answering key's id, and the run resumes on any worker. The run's owner and operators/admins may answer. 409 when the request is not pending (answered already, expired, or unknown) or the run has finished.
         */
        post: operations["answerRunInput"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/runs/{id}/feedback": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send feedback on a run
         * @description Stores a quality signal with the run (optionally about one step, optionally with the answer the user expected) and in the feedback log that outlives the run (`GET /v1/feedback`), and emits it as a `baton.feedback` span and log line in the run’s own trace, so it lands next to the trace in Application Insights or any OTLP backend.
         */
        post: operations["sendRunFeedback"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/runs/{id}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Stream a run’s events (SSE)
         * @description Server-sent events: every event so far, then live ones, ending after the terminal event (run.completed, run.failed or run.cancelled). Reconnect with `Last-Event-ID` to resume after the last event seen.
         */
        get: operations["streamRunEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/evaluations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List online evaluation scores
         * @description The scores online evaluation gave finished runs (BATON_ONLINE_EVAL_RATE), kept beyond the runs (BATON_LLMOPS_RETENTION_SECONDS) with each run’s team, pattern, variant and rollout subject. Newest first. Clients see scores of their own runs; operators and admins see all.
         */
        get: operations["listEvaluations"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/feedback": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List and aggregate feedback
         * @description Feedback on runs, kept beyond the runs themselves (BATON_LLMOPS_RETENTION_SECONDS) with the run’s team, pattern, variant and versions, and its input and output when the operator allows content (BATON_FEEDBACK_CONTENT). Newest first; `aggregates` count and average every match by team, variant, pattern and UTC day. Clients see feedback on their own runs; operators and admins see all.
         */
        get: operations["listFeedback"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List teams
         * @description Teams, their agents, the patterns each is wired for and the run option defaults.
         */
        get: operations["listTeams"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/agents": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List agents
         * @description Every agent of every team with its model, policies and circuit-breaker state across the worker fleet (per-worker detail for operators and admins).
         */
        get: operations["listAgents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a team
         * @description The current version with its document, and every earlier version.
         */
        get: operations["getTeam"];
        /**
         * Register a team version
         * @description Registers the document (the team file’s content as JSON) as a new immutable version and makes it current; new runs take it, runs in flight keep theirs. An identical document registers nothing (200, the existing version). Admin.
         */
        put: operations["registerTeam"];
        post?: never;
        /**
         * Retire a team
         * @description New runs can no longer use the team; runs in flight finish on their version. Registering a document again brings it back. Admin.
         */
        delete: operations["retireTeam"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{name}/versions/{version}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a team version
         * @description One version of a team with its document, current or not.
         */
        get: operations["getTeamVersion"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/workers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List live workers
         * @description Every worker process with a live heartbeat: identity, concurrency, active runs and circuit-breaker state per agent. A worker that stops beating disappears after its TTL. Operator or admin.
         */
        get: operations["listWorkers"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/queue": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Queue statistics
         * @description Job counts of the runs queue, the age of the oldest waiting job and the runs finished in the last minute. Operator or admin.
         */
        get: operations["getQueueStats"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/queue/pause": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Pause the queue
         * @description Workers finish the runs they have and take no new ones. New runs are still accepted: they wait, and their record says `queuePaused: true`. Operator or admin.
         */
        post: operations["pauseQueue"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/queue/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Resume the queue
         * @description Workers take waiting runs again. Operator or admin.
         */
        post: operations["resumeQueue"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/runs/{id}/retry": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Retry a failed run
         * @description A new attempt of a failed run under the same id. Successful agent calls are replayed from the journal (not called again); journaled failures, and pattern steps decided after the first failure, run again. The record goes back to `queued`. 409 when the run is not failed. Operator or admin.
         */
        post: operations["retryRun"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/teams/{team}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel a team's runs
         * @description Cancels every queued or running run of the team: waiting runs at once, running runs through their worker (within about a second). Operator or admin.
         */
        post: operations["cancelTeamRuns"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tenants": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Tenants: limits and usage
         * @description Every API key id (configured, or that has created runs) with its limits (BATON_TENANT_LIMITS) and its usage: runs in flight, runs created in the last minute, tokens of runs finished today (UTC). Operator or admin.
         */
        get: operations["listTenants"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface webhooks {
    runEvent: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A run event, delivered to the run’s webhook
         * @description POSTed to `webhook.url` for each event type in `webhook.events` (default: input.requested and the terminal event). Verify the signature before trusting the body (docs/human-input.md; `verifyWebhook` in @baton/client). A 2xx answer ends the delivery; anything else, or no answer within BATON_WEBHOOK_TIMEOUT_MS, is retried with backoff (BATON_WEBHOOK_ATTEMPTS); the attempts are listed on the run record. Deliveries of one run may arrive out of order and more than once: deduplicate by `id`.
         */
        post: operations["receiveRunEvent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface components {
    schemas: {
        /**
         * @description A run to create: team, pattern, input, options.
         * @example {
         *       "team": "news-desk",
         *       "pattern": "concurrent",
         *       "input": "Contoso Motors raised its guidance and its shares rose; supplier Fabrikam Industries warned.",
         *       "options": {
         *         "deadlineMs": 60000,
         *         "maxModelCalls": 20
         *       },
         *       "metadata": {
         *         "ticket": "DEMO-1"
         *       }
         *     }
         */
        RunRequestInput: {
            /** @default news-desk */
            team: string;
            teamVersion?: string;
            /** @enum {string} */
            pattern: "sequential" | "concurrent" | "handoff" | "magentic" | "group-chat" | "map";
            input: string | {
                [key: string]: unknown;
            };
            options?: {
                deadlineMs?: number;
                maxTokens?: number;
                maxModelCalls?: number;
                /** @enum {string} */
                context?: "full" | "last" | "summary" | "truncate";
                concurrency?: number;
                model?: {
                    /** @enum {string} */
                    provider?: "simulated" | "azure-openai" | "openai-compatible" | "foundry";
                    deployment?: string;
                    foundryAgent?: string;
                    temperature?: number;
                    seed?: number;
                    maxOutputTokens?: number;
                };
                variant?: string;
                /** @enum {string} */
                aggregator?: "merge" | "vote" | "agent";
                minSuccessful?: number;
                entryAgent?: string;
                maxHandoffs?: number;
                maxRounds?: number;
                maxStalls?: number;
                maxResets?: number;
                /** @enum {string} */
                chatMode?: "round-robin" | "manager" | "maker-checker";
                maxTurns?: number;
                maxIterations?: number;
                maxItems?: number;
                seed?: number;
                stream?: boolean;
            };
            metadata?: {
                [key: string]: string;
            };
            webhook?: {
                /** Format: uri */
                url: string;
                events?: ("input.requested" | "input.received" | "input.expired" | "run.completed" | "run.failed" | "run.cancelled")[];
            };
        };
        /**
         * @example {
         *       "score": 1,
         *       "comment": "Right companies, right directions."
         *     }
         */
        FeedbackInput: {
            score: number;
            comment?: string;
            step?: string;
            correction?: {
                [key: string]: unknown;
            };
        };
        /** @description A run: status, output, usage, steps, trace id. */
        RunRecord: {
            id: string;
            /** @enum {string} */
            status: "queued" | "running" | "waiting" | "succeeded" | "failed" | "cancelled";
            team: string;
            /** @enum {string} */
            pattern: "sequential" | "concurrent" | "handoff" | "magentic" | "group-chat" | "map";
            input: string | {
                [key: string]: unknown;
            };
            options: {
                deadlineMs?: number;
                maxTokens?: number;
                maxModelCalls?: number;
                /** @enum {string} */
                context?: "full" | "last" | "summary" | "truncate";
                concurrency?: number;
                model?: {
                    /** @enum {string} */
                    provider?: "simulated" | "azure-openai" | "openai-compatible" | "foundry";
                    deployment?: string;
                    foundryAgent?: string;
                    temperature?: number;
                    seed?: number;
                    maxOutputTokens?: number;
                };
                variant?: string;
                /** @enum {string} */
                aggregator?: "merge" | "vote" | "agent";
                minSuccessful?: number;
                entryAgent?: string;
                maxHandoffs?: number;
                maxRounds?: number;
                maxStalls?: number;
                maxResets?: number;
                /** @enum {string} */
                chatMode?: "round-robin" | "manager" | "maker-checker";
                maxTurns?: number;
                maxIterations?: number;
                maxItems?: number;
                seed?: number;
                stream?: boolean;
            };
            metadata?: {
                [key: string]: string;
            };
            output?: {
                text: string;
                structured?: unknown;
            };
            partial?: boolean;
            failedAgents?: string[];
            details?: {
                [key: string]: unknown;
            };
            error?: {
                code: string;
                message: string;
                details?: {
                    [key: string]: unknown;
                };
            };
            usage: {
                inputTokens: number;
                outputTokens: number;
                modelCalls: number;
                costUsd?: number;
            };
            steps: {
                key: string;
                /** @enum {string} */
                kind?: "agent" | "tool";
                agent: string;
                tool?: string;
                /** @enum {string} */
                status: "succeeded" | "failed";
                attempts: number;
                startedAt: string;
                completedAt?: string;
                durationMs: number;
                usage: {
                    inputTokens: number;
                    outputTokens: number;
                };
                costUsd?: number;
                model?: string;
                error?: {
                    code: string;
                    message: string;
                    details?: {
                        [key: string]: unknown;
                    };
                };
            }[];
            pending?: {
                id: string;
                /** @enum {string} */
                kind: "approval" | "question";
                agent: string;
                step: string;
                tool?: string;
                arguments?: unknown;
                question?: string;
                createdAt: string;
                expiresAt?: string;
            }[];
            webhook?: {
                /** Format: uri */
                url: string;
                events?: ("input.requested" | "input.received" | "input.expired" | "run.completed" | "run.failed" | "run.cancelled")[];
            };
            deliveries?: {
                delivery: string;
                type: string;
                attempt: number;
                status?: number;
                error?: string;
                at: string;
            }[];
            traceId?: string;
            feedback?: components["schemas"]["FeedbackEntry"][];
            evaluations?: {
                scorer: string;
                score: number;
                judgeModel?: string;
                rubric?: string;
                at: string;
            }[];
            attempt: number;
            cancelRequested?: boolean;
            queuePaused?: boolean;
            definitionVersion: string;
            teamVersion?: string;
            variant?: string;
            subject?: string;
            createdAt: string;
            startedAt?: string;
            finishedAt?: string;
            durationMs?: number;
        };
        /** @description An event of a run, as the SSE stream and webhooks deliver it; `type` tells which. */
        RunEvent: {
            /** @constant */
            type: "run.started";
            runId: string;
            at: string;
            attempt: number;
            resumed: boolean;
        } | {
            /** @constant */
            type: "agent.started";
            runId: string;
            at: string;
            agent: string;
            step: string;
        } | {
            /** @constant */
            type: "agent.delta";
            runId: string;
            at: string;
            agent: string;
            step: string;
            text: string;
        } | {
            /** @constant */
            type: "agent.completed";
            runId: string;
            at: string;
            agent: string;
            step: string;
            durationMs: number;
            attempts: number;
            usage: {
                inputTokens: number;
                outputTokens: number;
            };
            text?: string;
        } | {
            /** @constant */
            type: "agent.failed";
            runId: string;
            at: string;
            agent: string;
            step: string;
            attempts: number;
            error: {
                code: string;
                message: string;
                details?: {
                    [key: string]: unknown;
                };
            };
        } | {
            /** @constant */
            type: "agent.attempt.failed";
            runId: string;
            at: string;
            agent: string;
            step: string;
            attempt: number;
            durationMs: number;
            error: {
                code: string;
                message: string;
                details?: {
                    [key: string]: unknown;
                };
            };
        } | {
            /** @constant */
            type: "tool.called";
            runId: string;
            at: string;
            agent: string;
            step: string;
            tool: string;
            callId: string;
            arguments?: string;
        } | {
            /** @constant */
            type: "tool.completed";
            runId: string;
            at: string;
            agent: string;
            step: string;
            tool: string;
            callId: string;
            durationMs: number;
            attempts: number;
            result?: string;
        } | {
            /** @constant */
            type: "tool.failed";
            runId: string;
            at: string;
            agent: string;
            step: string;
            tool: string;
            callId: string;
            attempts: number;
            error: {
                code: string;
                message: string;
                details?: {
                    [key: string]: unknown;
                };
            };
        } | {
            /** @constant */
            type: "handoff";
            runId: string;
            at: string;
            from: string;
            to: string;
            reason?: string;
        } | {
            /** @constant */
            type: "plan.created";
            runId: string;
            at: string;
            ledger: {
                [key: string]: unknown;
            };
        } | {
            /** @constant */
            type: "ledger.updated";
            runId: string;
            at: string;
            round: number;
            ledger: {
                [key: string]: unknown;
            };
        } | {
            /** @constant */
            type: "replanned";
            runId: string;
            at: string;
            reset: number;
            ledger: {
                [key: string]: unknown;
            };
        } | {
            /** @constant */
            type: "speaker.selected";
            runId: string;
            at: string;
            turn: number;
            speaker: string;
            reason?: string;
        } | {
            /** @constant */
            type: "input.requested";
            runId: string;
            at: string;
            request: {
                id: string;
                /** @enum {string} */
                kind: "approval" | "question";
                agent: string;
                step: string;
                tool?: string;
                arguments?: unknown;
                question?: string;
                createdAt: string;
                expiresAt?: string;
            };
        } | {
            /** @constant */
            type: "input.received";
            runId: string;
            at: string;
            requestId: string;
            step: string;
            /** @enum {string} */
            decision?: "approve" | "reject";
            by: string;
        } | {
            /** @constant */
            type: "input.expired";
            runId: string;
            at: string;
            requestId: string;
            step: string;
            /** @constant */
            decision: "reject";
        } | {
            /** @constant */
            type: "guardrail.triggered";
            runId: string;
            at: string;
            agent: string;
            step: string;
            guardrail: string;
            /** @enum {string} */
            stage: "input" | "output";
            /** @enum {string} */
            outcome: "pass" | "transform" | "block" | "reask";
            findings?: {
                [key: string]: number;
            };
            reason?: string;
        } | {
            /** @constant */
            type: "budget.exceeded";
            runId: string;
            at: string;
            /** @enum {string} */
            budget: "tokens" | "modelCalls";
            limit: number;
            used: number;
        } | {
            /** @constant */
            type: "run.completed";
            runId: string;
            at: string;
            partial: boolean;
            output: {
                text: string;
                structured?: unknown;
            };
            usage: {
                inputTokens: number;
                outputTokens: number;
                modelCalls: number;
                costUsd?: number;
            };
        } | {
            /** @constant */
            type: "run.failed";
            runId: string;
            at: string;
            error: {
                code: string;
                message: string;
                details?: {
                    [key: string]: unknown;
                };
            };
        } | {
            /** @constant */
            type: "run.cancelled";
            runId: string;
            at: string;
        };
        /** @description The body of a webhook delivery (the OpenAPI document’s `webhooks`). */
        WebhookDelivery: {
            id: string;
            /** @enum {string} */
            type: "input.requested" | "input.received" | "input.expired" | "run.completed" | "run.failed" | "run.cancelled";
            runId: string;
            createdAt: string;
            data: {
                [key: string]: unknown;
            };
        };
        FeedbackEntry: {
            score: number;
            comment?: string;
            step?: string;
            correction?: {
                [key: string]: unknown;
            };
            at: string;
        };
        /** @description The body of every error answer. */
        ErrorEnvelope: {
            error: {
                code: string;
                message: string;
                details?: unknown;
            };
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    liveness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "ok";
                    };
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    readiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "ready";
                    };
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "unavailable";
                        reason: string;
                    };
                };
            };
        };
    };
    listRuns: {
        parameters: {
            query?: {
                status?: "queued" | "running" | "waiting" | "succeeded" | "failed" | "cancelled";
                limit?: number;
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["RunRecord"][];
                        nextCursor?: string;
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    createRun: {
        parameters: {
            query?: never;
            header?: {
                "idempotency-key"?: string;
                "baton-subject"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RunRequestInput"];
            };
        };
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunRecord"];
                };
            };
            /** @description Default Response */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunRecord"];
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    getRun: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunRecord"];
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    cancelRun: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunRecord"];
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    answerRunInput: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    requestId: string;
                    /** @enum {string} */
                    decision: "approve" | "reject";
                    arguments?: {
                        [key: string]: unknown;
                    };
                    comment?: string;
                } | {
                    requestId: string;
                    answer: string;
                };
            };
        };
        responses: {
            /** @description Default Response */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        runId: string;
                        answer: {
                            requestId: string;
                            /** @enum {string} */
                            decision?: "approve" | "reject";
                            arguments?: unknown;
                            comment?: string;
                            answer?: string;
                            by?: string;
                            at: string;
                            expired?: boolean;
                        };
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    sendRunFeedback: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["FeedbackInput"];
            };
        };
        responses: {
            /** @description Default Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FeedbackEntry"];
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    streamRunEvents: {
        parameters: {
            query?: never;
            header?: {
                "last-event-id"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A stream of run events: each message has `id` (resume with Last-Event-ID), `event` (the event type) and `data` (the event as JSON). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": components["schemas"]["RunEvent"];
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    listEvaluations: {
        parameters: {
            query?: {
                team?: string;
                scorer?: string;
                since?: string;
                until?: string;
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            runId: string;
                            team: string;
                            pattern: string;
                            variant: string;
                            subject?: string;
                            definitionVersion: string;
                            scorer: string;
                            score: number;
                            judgeModel?: string;
                            at: string;
                        }[];
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    listFeedback: {
        parameters: {
            query?: {
                team?: string;
                variant?: string;
                pattern?: "sequential" | "concurrent" | "handoff" | "magentic" | "group-chat" | "map";
                since?: string;
                until?: string;
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            score: number;
                            comment?: string;
                            step?: string;
                            correction?: {
                                [key: string]: unknown;
                            };
                            at: string;
                            runId: string;
                            team: string;
                            pattern: string;
                            variant: string;
                            teamVersion?: string;
                            definitionVersion: string;
                            subject?: string;
                            input?: string | {
                                [key: string]: unknown;
                            };
                            output?: {
                                text: string;
                                structured?: unknown;
                            };
                        }[];
                        aggregates: {
                            team: string;
                            variant: string;
                            pattern: string;
                            day: string;
                            n: number;
                            meanScore: number;
                        }[];
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    listTeams: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            name: string;
                            description: string;
                            version: string;
                            definitionVersion: string;
                            agents: {
                                name: string;
                                description: string;
                            }[];
                            variants: string[];
                            patterns: {
                                /** @enum {string} */
                                pattern: "sequential" | "concurrent" | "handoff" | "magentic" | "group-chat" | "map";
                                wiring: unknown;
                                options: {
                                    [key: string]: unknown;
                                };
                            }[];
                        }[];
                    };
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    listAgents: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            team: string;
                            name: string;
                            description: string;
                            model: {
                                [key: string]: unknown;
                            };
                            structuredOutput: boolean;
                            handoffs: string[];
                            policy: {
                                timeoutMs: number;
                                retry: {
                                    maxAttempts: number;
                                    initialDelayMs: number;
                                    maxDelayMs: number;
                                };
                                breaker: {
                                    failureThreshold: number;
                                    halfOpenAfterMs: number;
                                };
                            };
                            breaker?: {
                                /** @enum {string} */
                                state: "closed" | "open" | "half-open";
                                lastFailure?: {
                                    at: string;
                                    code: string;
                                    message?: string;
                                };
                            };
                            /** @enum {string} */
                            fleet: "closed on all" | "open on some" | "open on all";
                            workers?: {
                                worker: string;
                                /** @enum {string} */
                                state: "closed" | "open" | "half-open";
                                lastFailure?: {
                                    at: string;
                                    code: string;
                                    message?: string;
                                };
                            }[];
                        }[];
                    };
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    getTeam: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        name: string;
                        current: {
                            version: string;
                            /** @enum {string} */
                            source: "api" | "file";
                            registeredAt: string;
                            registeredBy: string;
                            document: {
                                [key: string]: unknown;
                            };
                        } | null;
                        retiredAt?: string;
                        versions: {
                            version: string;
                            /** @enum {string} */
                            source: "api" | "file";
                            registeredAt: string;
                            registeredBy: string;
                            current: boolean;
                        }[];
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    registerTeam: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    [key: string]: unknown;
                };
            };
        };
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        name: string;
                        version: string;
                        created: boolean;
                        changed: boolean;
                        previous?: string;
                    };
                };
            };
            /** @description Default Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        name: string;
                        version: string;
                        created: boolean;
                        changed: boolean;
                        previous?: string;
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    retireTeam: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        name: string;
                        retired: string;
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    getTeamVersion: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
                version: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        version: string;
                        /** @enum {string} */
                        source: "api" | "file";
                        registeredAt: string;
                        registeredBy: string;
                        document: {
                            [key: string]: unknown;
                        };
                        current: boolean;
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    listWorkers: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            id: string;
                            host: string;
                            pid: number;
                            version: string;
                            concurrency: number;
                            activeJobs: number;
                            activeRuns: string[];
                            draining: boolean;
                            startedAt: string;
                            lastBeatAt: string;
                            intervalMs: number;
                            ttlMs: number;
                            breakers: {
                                agent: string;
                                provider?: string;
                                model?: string;
                                configured?: boolean;
                                /** @enum {string} */
                                state: "closed" | "open" | "half-open";
                                lastFailure?: {
                                    at: string;
                                    code: string;
                                    message: string;
                                };
                            }[];
                        }[];
                    };
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    getQueueStats: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        queue: string;
                        paused: boolean;
                        counts: {
                            waiting: number;
                            active: number;
                            delayed: number;
                            failed: number;
                            completed: number;
                        };
                        oldestWaitingAgeMs: number | null;
                        throughput: {
                            windowSeconds: number;
                            finished: number;
                            succeeded: number;
                            failed: number;
                            cancelled: number;
                        };
                        collectedAt: string;
                    };
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    pauseQueue: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        queue: string;
                        paused: boolean;
                        counts: {
                            waiting: number;
                            active: number;
                            delayed: number;
                            failed: number;
                            completed: number;
                        };
                        oldestWaitingAgeMs: number | null;
                        throughput: {
                            windowSeconds: number;
                            finished: number;
                            succeeded: number;
                            failed: number;
                            cancelled: number;
                        };
                        collectedAt: string;
                    };
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    resumeQueue: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        queue: string;
                        paused: boolean;
                        counts: {
                            waiting: number;
                            active: number;
                            delayed: number;
                            failed: number;
                            completed: number;
                        };
                        oldestWaitingAgeMs: number | null;
                        throughput: {
                            windowSeconds: number;
                            finished: number;
                            succeeded: number;
                            failed: number;
                            cancelled: number;
                        };
                        collectedAt: string;
                    };
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    retryRun: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunRecord"];
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    cancelTeamRuns: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                team: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        team: string;
                        cancelled: string[];
                        cancelling: string[];
                    };
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    listTenants: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            keyId: string;
                            /** @enum {string} */
                            role?: "client" | "operator" | "admin";
                            limits: {
                                inflight: number | null;
                                perMinute: number | null;
                                tokensPerDay: number | null;
                            };
                            usage: {
                                inflight: number;
                                lastMinute: number;
                                tokensToday: number;
                            };
                        }[];
                    };
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
    receiveRunEvent: {
        parameters: {
            query?: never;
            header: {
                /** @description `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with BATON_WEBHOOK_SECRET>`; refuse old timestamps. */
                "Baton-Signature": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookDelivery"];
            };
        };
        responses: {
            /** @description Received (any 2xx). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Not received: the delivery is tried again later. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
}
