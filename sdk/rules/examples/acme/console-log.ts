import { logger } from "./logger";

export function handle(req: Request): Response {
  // ruleid: acme/no-console-in-services
  console.log(`handling ${req.method} ${req.url}`);
  // ok: acme/no-console-in-services
  logger.info({ method: req.method }, "handling request");
  // ok: acme/no-console-in-services
  console.error("errors still go to stderr");
  const help = "call console.log(x) to debug"; // ok: acme/no-console-in-services
  // ruleid: acme/no-console-in-services
  debugger;
  // ruleid: acme/no-console-in-services
  console.debug(
    "multi-line",
    { help },
  );
  return new Response("ok");
}

// console.log("commented out");
