import { Duration, Token } from 'aws-cdk-lib';

/**
 * Synth-time checks shared by the constructs. Every message names the prop,
 * shows the value received and says what is allowed. Unresolved tokens are
 * skipped: they are only known at deploy time.
 */

/** Throws unless `value` is an integer in `[min, max]`. */
export function validateIntegerRange(prop: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || Token.isUnresolved(value)) {
    return;
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`'${prop}' must be an integer between ${min} and ${max}, got: ${value}`);
  }
}

/** Throws unless `value` is a percentage from 0 to 100. */
export function validatePercentage(prop: string, value: number | undefined): void {
  if (value === undefined || Token.isUnresolved(value)) {
    return;
  }
  if (!Number.isFinite(value) || value < 0 || value > 100) {
    throw new Error(`'${prop}' must be a percentage between 0 and 100, got: ${value}`);
  }
}

/** Throws unless `value` is an integer of at least `min`. */
export function validateIntegerAtLeast(prop: string, value: number | undefined, min: number): void {
  if (value === undefined || Token.isUnresolved(value)) {
    return;
  }
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`'${prop}' must be an integer of at least ${min}, got: ${value}`);
  }
}

/**
 * Throws unless `value` is a whole number of seconds in `[minSeconds, maxSeconds]`;
 * `allowed` words the range in the message when the bare numbers would not say why.
 */
export function validateWholeSeconds(
  prop: string,
  value: Duration | undefined,
  minSeconds: number,
  maxSeconds: number,
  allowed: string = `between ${minSeconds} and ${maxSeconds}`,
): void {
  if (value === undefined || value.isUnresolved()) {
    return;
  }
  const seconds = value.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < minSeconds || seconds > maxSeconds) {
    throw new Error(`'${prop}' must be a whole number of seconds ${allowed}, got: ${seconds} seconds`);
  }
}

/** Throws if an S3 key prefix is malformed for matching `detail.object.key`. */
export function validateKeyPrefix(prop: string, value: string | undefined): void {
  if (value === undefined || Token.isUnresolved(value)) {
    return;
  }
  if (value.startsWith('/')) {
    throw new Error(`'${prop}' must not start with '/' (S3 object keys have no leading slash), got: ${JSON.stringify(value)}`);
  }
}

/** Throws if any suffix is empty. */
export function validateSuffixes(prop: string, values: string[] | undefined): void {
  if (values === undefined || Token.isUnresolved(values)) {
    return;
  }
  values.forEach((value, index) => {
    if (!Token.isUnresolved(value) && value.length === 0) {
      throw new Error(`'${prop}' entries must be non-empty strings, got: ${JSON.stringify(values)} (entry ${index} is empty)`);
    }
  });
}

/** Throws unless `value` is a whole number of minutes in `[minMinutes, maxMinutes]`. */
export function validateWholeMinutes(
  prop: string,
  value: Duration | undefined,
  minMinutes: number,
  maxMinutes: number,
  allowed: string = `between ${minMinutes} and ${maxMinutes}`,
): void {
  if (value === undefined || value.isUnresolved()) {
    return;
  }
  const minutes = value.toMinutes({ integral: false });
  if (!Number.isInteger(minutes) || minutes < minMinutes || minutes > maxMinutes) {
    throw new Error(`'${prop}' must be a whole number of minutes ${allowed}, got: ${minutes} minutes`);
  }
}

/** Throws unless `value` is a whole number of days of at least `minDays`. */
export function validateWholeDaysAtLeast(prop: string, value: Duration | undefined, minDays: number): void {
  if (value === undefined || value.isUnresolved()) {
    return;
  }
  const days = value.toDays({ integral: false });
  if (!Number.isInteger(days) || days < minDays) {
    throw new Error(`'${prop}' must be a whole number of days of at least ${minDays}, got: ${days} days`);
  }
}
