// POST /api/wechatpay/complaints: WeChat Pay's complaint notifications (COMPLAINT.CREATE / STATE_CHANGE), raw
// bytes in, verified and decrypted like payment notifications. 204 once the complaint is fetched and stored (or
// the notification was already taken); 4xx for what could not be trusted (refusals counted, sampled, the body
// kept as a hash only); 5xx when the complaint could not be fetched, so WeChat delivers again.
import express, { type Router } from 'express';
import { type ComplaintDeps, receiveComplaintNotification } from '../domain/complaints';

export function complaintNotifyRoutes(deps: ComplaintDeps | null): Router {
  const r = express.Router();
  r.post('/', express.raw({ type: () => true, limit: '64kb' }), async (req, res) => {
    const fail = (status: number, message: string) => res.status(status).json({ code: 'FAIL', message });
    if (!deps) return fail(404, 'complaints are not configured');
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v[0] : v;
    try {
      const answer = await receiveComplaintNotification(deps, { headers, body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0) });
      if (answer.kind === 'REFUSED') return fail(answer.refusal.unauthentic ? 401 : 400, answer.refusal.message);
      res.status(204).end();
    } catch (err) {
      deps.logger.error({ err: (err as Error).message }, 'complaint notification not stored; WeChat will retry');
      fail(500, 'temporarily unable to process; retry');
    }
  });
  return r;
}
