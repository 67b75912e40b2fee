// The ceiling for HTTP: a bare Express route in its own process, answering what the API answers
// (a small JSON object), for the same load settings as the scenarios.
import express from 'express';

const app = express();
app.disable('x-powered-by');
app.get('/json', (_req, res) => res.json({ status: 'ok', time: new Date().toISOString() }));
app.post('/json', express.raw({ type: () => true, limit: '64kb' }), (_req, res) => res.status(204).end());
const server = app.listen(0, '127.0.0.1', () => {
  console.log(`READY ${(server.address() as { port: number }).port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
