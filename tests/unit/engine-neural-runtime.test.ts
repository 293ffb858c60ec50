/**
 * Where @tensorflow/tfjs is not installed (the Lambda layer leaves it out), the global models fail
 * with a message that says so and where they do run, not with a bare "Cannot find module".
 */
import { describe, expect, it, vi } from 'vitest';

vi.mock('@tensorflow/tfjs', () => {
  throw new Error("Cannot find module '@tensorflow/tfjs'");
});

describe('Function: loadTf', () => {
  it('throws NotImplemented naming the missing package and where CNN-QR and DeepAR+ run when tfjs is not installed', async () => {
    // Prepare
    const { loadTf } = await import('../../engine/models/neural/runtime');

    // Act
    const loading = loadTf('cpu');

    // Assess
    await expect(loading).rejects.toMatchObject({ name: 'NotImplemented' });
    await expect(loading).rejects.toThrow(/CNN-QR and DeepAR\+ need @tensorflow\/tfjs, which is not installed here .*local engine or on Amazon Forecast/);
  });
});
