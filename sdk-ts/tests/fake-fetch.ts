/** A scripted stand-in for `fetch`: records each request and answers from a list. */

export interface Sent {
  url: string;
  init: RequestInit;
  headers: Record<string, string>;
  body: { sent_at: string; events: { schema: string; version?: number; payload: any }[] };
}

export type Answer = Response | Error | ((sent: Sent) => Response);

export interface FakeFetch {
  fetch: typeof fetch;
  sent: Sent[];
}

/** A fetch that answers the i-th request with `answers[i]` (the last one once they run out). */
export function fakeFetch(...answers: Answer[]): FakeFetch {
  const sent: Sent[] = [];
  const fetcher = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request: Sent = {
      url: String(input),
      init: init ?? {},
      headers: Object.fromEntries(Object.entries((init?.headers ?? {}) as Record<string, string>)),
      body: JSON.parse(String(init?.body)),
    };
    const answer = answers[Math.min(sent.length, answers.length - 1)];
    sent.push(request);
    if (answer instanceof Error) {
      throw answer;
    }
    return typeof answer === "function" ? answer(request) : answer.clone();
  };
  return { fetch: fetcher as typeof fetch, sent };
}

/** A gateway answer with a JSON body. */
export function answer(status: number, body: object, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

/** The gateway's answer when it accepted every event of the request. */
export function acceptAll(sent: Sent): Response {
  return answer(200, { accepted: sent.body.events.length, duplicates: 0, rejected: [] });
}
