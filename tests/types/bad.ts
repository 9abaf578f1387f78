// Wrong uses of the API: every line marked WRONG must be a type error, and nothing else.
// run.js checks that `tsc` fails with exactly these lines.
import { createClient, TokenGateError } from 'tokengate'

createClient({ timeout: '15s' }) // WRONG
createClient({ login: true }) // WRONG
createClient({ authScheme: 0 }) // WRONG
createClient({ baseURL: ['https://a.example.com'] }) // WRONG
createClient({ expiredWhen: { status: 401 } }) // WRONG
createClient({ envelope: 'yes' }) // WRONG
createClient({ checkSession: 'true' }) // WRONG
createClient({ platfrom: wx }) // WRONG
createClient({ refresh: { url: '/r', field: 1 } }) // WRONG

const client = createClient({ platform: wx })
client.request({ method: 'GET' }) // WRONG
client.request({ url: '/a', auth: 'no' }) // WRONG
client.get(42) // WRONG
client.on('logged-in', () => {}) // WRONG
client.on('refresh', (e) => { const r: string = e.reason }) // WRONG
client.setSession({ refreshToken: 'r' }) // WRONG
client.setSession({ accessToken: 'a', expiresIn: '60' }) // WRONG
const s: { refreshToken: string } = client.session() // WRONG
client.upload({ url: '/u' }) // WRONG
client.patch('/a') // WRONG
const n: string = client.session().expiresAt // WRONG
new TokenGateError('OOPS') // WRONG
const ready: Promise<string> = client.ready // WRONG

void s
void n
void ready
createClient({ maxConcurrent: '10' }) // WRONG
createClient({ header: { 'X-App': 1 } }) // WRONG
createClient({ login: { data: 'appId=1' } }) // WRONG
createClient().get('/a', undefined, { success: () => {} }) // WRONG
createClient().upload({ url: '/u', filePath: 'x', name: 'f' }).onProgressUpdate('x') // WRONG
