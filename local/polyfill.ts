/**
 * aws-local-stepfunctions calls `Promise.withResolvers` (Node 22+; upstream declares node >= 22,
 * the vendored copy the project's range, see scripts/vendor-asl-runner.mjs). On Node 20 every Task
 * would fail with "Promise.withResolvers is not a function", so this
 * module must be imported before the interpreter runs anything.
 */
interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

const promiseConstructor = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };
if (typeof promiseConstructor.withResolvers !== 'function') {
  promiseConstructor.withResolvers = <T>(): Resolvers<T> => {
    let resolve!: Resolvers<T>['resolve'];
    let reject!: Resolvers<T>['reject'];
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

export {};
