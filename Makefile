# SAM builds each function and the layer with `BuildMethod: makefile`: `sam build` runs
# `make build-<LogicalId>` with ARTIFACTS_DIR set. Every target calls the same build script
# as `npm run build` (scripts/build.mjs), so there is one build, not two.
BUILD := node scripts/build.mjs

.PHONY: build build-SharedLayer build-ParseFunction build-CreateDatasetFunction \
	build-CreateDatasetGroupFunction build-CreateImportJobsFunction build-CreatePredictorsFunction \
	build-CreateForecastsFunction build-NotifyFunction build-DeleteForecastsFunction \
	build-DeletePredictorsFunction build-DeleteDatasetsFunction build-FailureFunction \
	build-EnginePlanFunction build-EngineShardFunction build-EngineFinishFunction

build:
	$(BUILD)

build-SharedLayer:
	$(BUILD) --layer --artifacts-dir "$(ARTIFACTS_DIR)"

build-ParseFunction:
	$(BUILD) --function parse --artifacts-dir "$(ARTIFACTS_DIR)"

build-CreateDatasetFunction:
	$(BUILD) --function create-dataset --artifacts-dir "$(ARTIFACTS_DIR)"

build-CreateDatasetGroupFunction:
	$(BUILD) --function create-dataset-group --artifacts-dir "$(ARTIFACTS_DIR)"

build-CreateImportJobsFunction:
	$(BUILD) --function create-import-jobs --artifacts-dir "$(ARTIFACTS_DIR)"

build-CreatePredictorsFunction:
	$(BUILD) --function create-predictors --artifacts-dir "$(ARTIFACTS_DIR)"

build-CreateForecastsFunction:
	$(BUILD) --function create-forecasts --artifacts-dir "$(ARTIFACTS_DIR)"

build-NotifyFunction:
	$(BUILD) --function notify --artifacts-dir "$(ARTIFACTS_DIR)"

build-DeleteForecastsFunction:
	$(BUILD) --function delete-forecasts --artifacts-dir "$(ARTIFACTS_DIR)"

build-DeletePredictorsFunction:
	$(BUILD) --function delete-predictors --artifacts-dir "$(ARTIFACTS_DIR)"

build-DeleteDatasetsFunction:
	$(BUILD) --function delete-datasets --artifacts-dir "$(ARTIFACTS_DIR)"

build-FailureFunction:
	$(BUILD) --function failure --artifacts-dir "$(ARTIFACTS_DIR)"

build-EnginePlanFunction:
	$(BUILD) --function engine-plan --artifacts-dir "$(ARTIFACTS_DIR)"

build-EngineShardFunction:
	$(BUILD) --function engine-shard --artifacts-dir "$(ARTIFACTS_DIR)"

build-EngineFinishFunction:
	$(BUILD) --function engine-finish --artifacts-dir "$(ARTIFACTS_DIR)"
