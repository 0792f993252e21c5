export const STS_CLIENT = Symbol('STS_CLIENT');
