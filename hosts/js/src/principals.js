// Who calls the engine. The host turns a principal into the call's actor (resolving a person's user and an
// API key's tenant, scopes and restrictions itself, see identity.js); the engine never sees a credential.

/** Base of the principals below. */
export class Principal {}

/** The platform itself: scripts, jobs, the command line. */
export class System extends Principal {}

/** A platform operator, authenticated by the embedding application. */
export class Operator extends Principal {
  /** @param {string} operatorId */
  constructor(operatorId) {
    super();
    this.operatorId = operatorId;
  }
}

/** A human the embedding application's identity provider vouches for. */
export class Person extends Principal {
  /**
   * @param {string} externalId the identity provider's subject
   * @param {string} email the e-mail the identity provider vouches for
   * @param {{name?: string|null, emailVerified?: boolean}} [options]
   */
  constructor(externalId, email, { name = null, emailVerified = true } = {}) {
    super();
    this.externalId = externalId;
    this.email = email;
    this.name = name;
    this.emailVerified = emailVerified;
  }
}

/** A tenant API key, by its secret (the host looks it up by hash; its tenant is the key's). */
export class ApiKey extends Principal {
  /** @param {string} secret */
  constructor(secret) {
    super();
    this.secret = secret;
  }
}

/** Nobody. */
export class Anonymous extends Principal {}
