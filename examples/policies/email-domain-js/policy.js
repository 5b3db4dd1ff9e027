// "Only e-mails of @acme.com may be invited" — the email-domain policy, in JavaScript.
// Config: {"domains": ["acme.com"]}. Built into a component with componentize-js (see package.json).

const allow = { tag: 'allow' };
const deny = (reason) => ({ tag: 'deny', val: reason });

function domainsOf(ctx) {
  const config = JSON.parse(ctx.config || '{}');
  return (config.domains || []).map((d) => String(d).toLowerCase());
}

function check(ctx, email) {
  const domains = domainsOf(ctx);
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return domains.includes(domain) ? allow : deny(`only e-mails of ${domains.map((d) => '@' + d).join(', ')} may join`);
}

export const hooks = {
  handles: () => ['invite-user', 'accept-invitation'],
  inviteUser: (ctx, event) => check(ctx, event.email),
  acceptInvitation: (ctx, event) => check(ctx, event.email),
  changeRole: () => allow,
  removeMember: () => allow,
  createApiKey: () => allow,
  writePin: () => allow,
  fileTicket: () => allow,
};
