/**
 * A run restarted during its own cleanup finds its resource names still held by resources being
 * deleted (found by the fault matrix: SIGKILL while deleting, then restart → the run was recorded
 * FAILED although it had delivered). A name being deleted means "wait", not "failed".
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CreateDatasetGroupCommand, DescribeDatasetGroupCommand, ListDatasetGroupsCommand, ResourceAlreadyExistsException } from '@aws-sdk/client-forecast';
import { createDatasetGroup } from '../../shared/steps/create-dataset-group';
import { ResourcePending } from '../../shared/errors';
import { createOutcome } from '../../shared/status';
import { arn, mockedForecast, stateWithResults } from './steps-fixture';

const { mock, client } = mockedForecast();

describe('Create steps: a name held by a resource being deleted', () => {
  afterEach(() => mock.reset());

  it('maps DELETE_PENDING and DELETE_IN_PROGRESS to pending, DELETE_FAILED to failed', () => {
    expect(createOutcome('DELETE_PENDING')).toBe('pending');
    expect(createOutcome('DELETE_IN_PROGRESS')).toBe('pending');
    expect(createOutcome('DELETE_FAILED')).toBe('failed');
  });

  it('waits (ResourcePending) when the group of that name is still being deleted', async () => {
    // Prepare
    const state = stateWithResults();
    delete state.results.datasetGroup;
    mock.on(CreateDatasetGroupCommand).rejects(new ResourceAlreadyExistsException({ message: 'being deleted', $metadata: {} }));
    mock.on(ListDatasetGroupsCommand).resolves({ DatasetGroups: [{ DatasetGroupName: 'demo_group', DatasetGroupArn: arn('dataset-group', 'demo_group') }] });
    mock.on(DescribeDatasetGroupCommand).resolves({ Status: 'DELETE_IN_PROGRESS', DatasetArns: [] });
    // Act
    const error = await createDatasetGroup(state, { forecast: client }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ResourcePending);
  });
});
