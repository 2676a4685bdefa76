// POST /v1/evaluate: gold and predicted CoNLL texts in the body, the seqeval report back (what
// `nerkit evaluate --format json` prints) with the confusion tables of its HTML report, computed
// by the same library functions as the command. The body is held to the server's --body-limit.
// What it leaves out: --lenient (a bad sentence is a 400 naming its line) and column choices
// other than the last column (or the last two when 'pred' is left out).

import { FastifyInstance } from "fastify";
import { confusion, confusionJson } from "../../metrics/confusion.js";
import { evaluateConll, illegalTransitionWarning } from "../../metrics/evaluate-files.js";
import { reportJson } from "../../metrics/seqeval.js";
import { HttpError, validationMessage } from "../http-error.js";
import { evaluateRequest, evaluateRouteSchema } from "../schemas.js";

export function evaluationRoutes(bodyLimit: number) {
  return async (scope: FastifyInstance): Promise<void> => {
    scope.post("/v1/evaluate", { bodyLimit, schema: evaluateRouteSchema() }, async (req) => {
      const parsed = evaluateRequest.safeParse(req.body);
      if (!parsed.success) throw new HttpError(400, "E_VALIDATION", validationMessage(parsed.error.issues));
      const { gold, pred, mode = "default", scheme } = parsed.data;
      const result = evaluateConll({ gold: { name: "gold", text: gold }, pred: pred === undefined ? undefined : { name: "pred", text: pred }, mode, scheme });
      const warning = illegalTransitionWarning(result);
      return {
        report: reportJson(result.report),
        confusion: confusionJson(confusion(result.gold, result.pred, { mode, scheme: result.scheme })),
        ...(result.scheme ? { scheme: result.scheme.name } : {}),
        ...(warning ? { warnings: [warning] } : {}),
      };
    });
  };
}
