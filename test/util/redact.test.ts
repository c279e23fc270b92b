import { redact, registerSecret } from '../../src/util/redact';

/*
 * Secrets masked (src/util/redact.ts): every registered secret wherever it appears, and the password of any URL
 * (registered or not). Each test uses its own secret values (the registry is per process).
 */

test('a registered secret is masked everywhere it appears, the rest of the text kept', () => {
  registerSecret('sk-live-123456');
  expect(redact('key sk-live-123456 and again sk-live-123456.')).toBe('key **** and again ****.');
  expect(redact('nothing secret here')).toBe('nothing secret here');
});

test('several registered secrets are all masked', () => {
  registerSecret('first-secret-A');
  registerSecret('second-secret-B');
  expect(redact('a=first-secret-A b=second-secret-B')).toBe('a=**** b=****');
});

test('secrets of 4 characters and more are registered; shorter ones, empty, null and undefined are not', () => {
  registerSecret('Zq9!');
  registerSecret('Xy7');
  registerSecret('');
  registerSecret(null);
  registerSecret(undefined);
  expect(redact('p=Zq9! q=Xy7')).toBe('p=**** q=Xy7');
});

test("a URL's password is masked without registration; scheme, user, host, port, path and query are kept", () => {
  expect(redact('mysql://svm:svm-local@127.0.0.1:33306/svm_demo?ssl=1')).toBe(
    'mysql://svm:****@127.0.0.1:33306/svm_demo?ssl=1',
  );
  expect(redact('Cannot connect to mysql+tls://root:pa55w0rd@db.example:2881/app.')).toBe(
    'Cannot connect to mysql+tls://root:****@db.example:2881/app.',
  );
  expect(redact('HTTPS://User.Name-1:Secret_9@host/x')).toBe('HTTPS://User.Name-1:****@host/x');
  expect(redact('x-y.z://u:p@h')).toBe('x-y.z://u:****@h');
});

test('every URL in a text is masked, and a password with URL-reserved characters (other than @ and /) too', () => {
  expect(redact('from mysql://a:one@h1/d to mysql://b:two@h2/d')).toBe(
    'from mysql://a:****@h1/d to mysql://b:****@h2/d',
  );
  expect(redact('mysql://a:p:w?#%25x@h/d')).toBe('mysql://a:****@h/d');
  expect(redact('mysql://:only-password@h/d')).toBe('mysql://:****@h/d');
});

test('URLs without a password, and text that only looks like one, are unchanged', () => {
  for (const text of [
    'mysql://svm@127.0.0.1:33306/svm_demo',
    'http://host:8080/path',
    'see http://host/a:b@c',
    'ratio 3:4 @ noon',
    'user:pass@host (no scheme)',
    'mysql://u:p @host',
    '1http://u:p@h',
  ])
    expect(redact(text)).toBe(text);
});
